"""The template filters of the admin pages, on plain values."""
from jericho.admin.web import breakable


def test_an_address_may_break_only_after_a_dot_or_before_its_at_sign():
    assert breakable("create user ava.lindqvist@contoso.com") == (
        'create user <span class="address">ava.<wbr>lindqvist<wbr>@contoso.<wbr>com</span>')
    assert breakable("no address here.") == "no address here."


def test_breakable_text_is_escaped_first():
    hostile = """'<script>x</script>"@contoso.com"""
    assert breakable(hostile) == (
        '<span class="address">&#39;&lt;script&gt;x&lt;/script&gt;&#34;<wbr>@contoso.<wbr>com</span>')
