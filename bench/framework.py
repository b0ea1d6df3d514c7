"""The framework's floor: what a request costs in the stack Jericho is built on, Flask and
Flask-SQLAlchemy, before Jericho does anything. Served by the same gunicorn with the same config,
on the floor's database (floor.prepare), so that next to the bare WSGI floor it shows how much of
a ratio the framework takes by itself and how much is Jericho's own.

    GET  /trivial       a fixed JSON body
    POST /insert        the posted JSON committed as one row, through the session
    GET  /lookup?key=k  one lookup on the rows' unique index, through the session

`gunicorn bench.framework:app` with BENCH_FLOOR_DB naming the database.
"""
from __future__ import annotations

import json
import os

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Column, Integer, Table, Text, event, insert, select

from jericho.storage.database import configure_sqlite_connection

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.environ['BENCH_FLOOR_DB']}"
db = SQLAlchemy(app)
rows = Table("rows", db.metadata, Column("id", Integer, primary_key=True), Column("key", Text), Column("body", Text))

with app.app_context():
    event.listen(db.engine, "connect", configure_sqlite_connection)


@app.get("/trivial")
def trivial():
    return jsonify(ok=True)


@app.post("/insert")
def insert_row():
    body = request.get_json()
    row_id = db.session.execute(insert(rows).values(key=body["key"], body=json.dumps(body))).inserted_primary_key[0]
    db.session.commit()
    return jsonify(id=row_id), 201


@app.get("/lookup")
def lookup():
    found = db.session.execute(select(rows.c.id, rows.c.body).where(rows.c.key == request.args.get("key", "")))
    return jsonify(Resources=[{"id": row_id, **json.loads(body)} for row_id, body in found])
