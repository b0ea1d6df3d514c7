"""/scim_v2: the SCIM 2.0 service provider, with its bearer authentication, rate limits, time
limits and provisioning log; /api/v1: the directory read with an API key, and its events feed."""
from flask import Flask

from . import authentication, cli, provisioning_log, rate_limits, time_limits, v1, views


def init_app(app: Flask) -> None:
    provisioning_log.init_app(app)  # first: it times and logs every /scim_v2 request, rejected ones too
    time_limits.init_app(app)  # before authentication, whose queries it bounds too
    rate_limits.init_app(app)
    authentication.init_app(app)
    views.init_app(app)
    v1.init_app(app)
    cli.init_app(app)
