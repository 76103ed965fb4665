"""Neutral forms as HTML for a phone: one column, large tap targets, a choice of up to five
as a row of buttons, each error under its field, and what was typed kept."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Callable
from html import escape
from typing import Any

from bot.core.views import Form, FormField

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
background:#f4f5f7;color:#1d1c1d}
main{max-width:640px;margin:0 auto;padding:16px}
h1{font-size:20px;margin:8px 0 4px}
.intro{color:#454245;margin:0 0 16px}
.lang{float:right;font-size:14px;margin-top:10px}
fieldset{border:0;background:#fff;border-radius:10px;margin:0 0 12px;padding:14px 14px 10px}
legend{float:left;width:100%;padding:0;margin:0 0 8px;font-weight:600}
.hint{display:block;font-weight:400;color:#616061;font-size:13px}
.sub{margin:10px 0 4px;font-size:14px;color:#454245;clear:both}
.scale{display:flex;gap:6px;clear:both}
.scale label{flex:1;position:relative}
.scale input{position:absolute;opacity:0;inset:0}
.scale span{display:block;text-align:center;padding:10px 0;border:1px solid #c9c9cc;border-radius:8px;
background:#fff;font-weight:600;min-height:44px}
.scale input:checked+span{background:#1264a3;border-color:#1264a3;color:#fff}
.scale input:focus-visible+span{outline:2px solid #1264a3;outline-offset:2px}
details summary{cursor:pointer;color:#1264a3}
.ends{display:flex;justify-content:space-between;font-size:12px;color:#616061;margin-top:2px}
textarea,input[type=text]{width:100%;font:inherit;padding:10px;border:1px solid #c9c9cc;border-radius:8px}
textarea{min-height:110px}
.error{color:#b3261e;font-size:14px;margin:6px 0 0}
fieldset.bad{box-shadow:inset 3px 0 0 #b3261e}
.summary{background:#fde7e9;color:#5c0a11;border-radius:10px;padding:12px 14px;margin:0 0 12px}
button{width:100%;font:inherit;font-weight:700;padding:14px;border:0;border-radius:10px;background:#007a5a;
color:#fff;min-height:48px}
.notice{background:#fff;border-radius:10px;padding:18px 16px}
.draft{font-size:13px;color:#616061;text-align:center}
select,input[type=date],input[type=datetime-local]{width:100%;font:inherit;padding:10px;border:1px solid #c9c9cc;
border-radius:8px;background:#fff;min-height:44px}
.notice h2{font-size:17px;margin:0 0 6px}
.notice p{margin:6px 0}
dl{margin:6px 0;display:grid;grid-template-columns:auto 1fr;gap:2px 10px}
dt{color:#616061}
dd{margin:0;overflow-wrap:anywhere}
.row{border-top:1px solid #e8e8e8;padding:8px 0}
.buttons{display:flex;flex-wrap:wrap;gap:8px;margin-top:10px}
a.button{flex:1 1 40%;text-align:center;text-decoration:none;padding:12px;border-radius:10px;background:#fff;
border:1px solid #1264a3;color:#1264a3;font-weight:600;min-height:44px}
a.button.primary{background:#007a5a;border-color:#007a5a;color:#fff}
a.button.danger{border-color:#b3261e;color:#b3261e}
hr{border:0;border-top:1px solid #e8e8e8}
"""

# keeps what is typed in the browser's own storage under the form's `data-draft` (else the
# page's path), so a lost connection or a closed tab loses nothing; forgotten once it is sent
DRAFT_SCRIPT = """
(function(){var f=document.getElementById('answers');
var k='csatbot-draft:'+((f&&f.dataset.draft)||document.body.dataset.draft||location.pathname);
if(!f){if(document.body.dataset.answered||document.body.dataset.sent)try{localStorage.removeItem(k)}catch(e){}return}
var saved={};try{saved=JSON.parse(localStorage.getItem(k)||'{}')}catch(e){}
var fresh=document.body.dataset.errors!=='1';
Array.prototype.forEach.call(f.elements,function(el){
if(!el.name||el.type==='hidden'||!fresh||!(el.name in saved))return;
if(el.type==='radio'){el.checked=(saved[el.name]===el.value)}else{el.value=saved[el.name]}});
function keep(){var d={};Array.prototype.forEach.call(f.elements,function(el){if(!el.name||el.type==='hidden')return;
if(el.type==='radio'){if(el.checked)d[el.name]=el.value}else{d[el.name]=el.value}});
try{localStorage.setItem(k,JSON.stringify(d))}catch(e){}}
f.addEventListener('change',keep);f.addEventListener('input',keep);
var bad=document.querySelector('.summary');if(bad)bad.scrollIntoView();})();
"""

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           410: "Gone", 413: "Content Too Large", 422: "Unprocessable Content"}


def respond_html(start_response: Callable[..., Any], status: int, draw: Callable[[str], str]) -> list[bytes]:
    """A page that nothing else may frame, cache or script: `draw` gets the nonce its own
    style and script carry."""
    nonce = secrets.token_urlsafe(16)
    body = draw(nonce).encode("utf-8")
    start_response(f"{status} {REASONS.get(status, 'OK')}", [
        ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", f"default-src 'none'; style-src 'nonce-{nonce}'; "
                                    f"script-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'")])
    return [body]


def read_form(environ: dict[str, Any], most: int = 64 * 1024) -> dict[str, str] | None:
    """A posted form's fields; None for one too large or that is not a form."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 <= length <= most:
        return None
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


def _options(item: FormField, value: str, name: str) -> str:
    labels = [o.label.split(" · ", 1) for o in item.options]
    chips = "".join(
        f'<label><input type="radio" name="{escape(name)}" value="{escape(o.value)}"'
        f'{" checked" if o.value == value else ""}{" required" if item.required else ""}>'
        f"<span>{escape(label[0])}</span></label>" for o, label in zip(item.options, labels, strict=True))
    ends = [label[1] for label in labels if len(label) > 1]
    legend = (f'<div class="ends"><span>{escape(ends[0])}</span><span>{escape(ends[-1])}</span></div>'
              if len(ends) >= 2 else "")
    return f'<div class="scale">{chips}</div>{legend}'


def _control(item: FormField, value: str) -> str:
    name = escape(item.key)
    limit = f' maxlength="{item.max_length}"' if item.max_length else ""
    required = " required" if item.required else ""
    if item.kind == "select" and len(item.options) <= 5:
        return _options(item, value, item.key)
    if item.kind == "select":
        options = "".join(f'<option value="{escape(o.value)}"{" selected" if o.value == value else ""}>'
                          f"{escape(o.label)}</option>" for o in item.options)
        return f'<select name="{name}"{required}><option value=""></option>{options}</select>'
    if item.kind == "multiline":
        return f'<textarea name="{name}"{limit}{required}>{escape(value)}</textarea>'
    if item.kind == "number":
        return f'<input type="text" inputmode="decimal" name="{name}" value="{escape(value)}"{required}>'
    if item.kind in ("date", "datetime"):
        kind = "date" if item.kind == "date" else "datetime-local"
        return f'<input type="{kind}" name="{name}" value="{escape(value)}"{required}>'
    if item.kind == "user":
        options = "".join(f'<option value="{escape(o.value)}"{" selected" if o.value == value else ""}>'
                          f"{escape(o.label)}</option>" for o in item.options)
        return f'<select name="{name}"{required}><option value=""></option>{options}</select>'
    if item.kind == "customer":  # typed (a code or part of a name) with the customers offered as it is typed
        listed = "".join(f'<option value="{escape(o.value)}">{escape(o.label)}</option>' for o in item.options)
        return (f'<input type="text" name="{name}" value="{escape(value)}" list="l-{name}" autocomplete="off"'
                f'{required}><datalist id="l-{name}">{listed}</datalist>')
    if item.kind == "file":
        return ""  # a page cannot pass a file on to the use cases; render_form says so
    return f'<input type="text" name="{name}" value="{escape(value)}"{limit}{required}>'


def render_form(form: Form, values: dict[str, str], errors: dict[str, str], action: str,
                error_summary: str = "", draft_note: str = "", hidden: dict[str, str] | None = None,
                draft_key: str = "", problem: bool = False, file_note: str = "") -> str:
    """The form's fields in order; a field whose key shares the stem of the one before
    (`importance:q1` after `rating:q1`) is drawn inside it, as a sub-question. `hidden`
    travels with the form; `problem` shows the summary without field errors."""
    parts: list[str] = []
    if (errors or problem) and error_summary:
        parts.append(f'<div class="summary" role="alert">{escape(error_summary)}</div>')
    draft = f' data-draft="{escape(draft_key)}"' if draft_key else ""
    parts.append(f'<form method="post" action="{escape(action)}" id="answers"{draft} novalidate>')
    parts += [f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in (hidden or {}).items()]
    open_group = None
    for item in form.fields:
        stem = item.key.split(":", 1)[-1] if ":" in item.key else None
        error = errors.get(item.key, "")
        body = _control(item, values.get(item.key, item.initial or ""))
        problem = f'<p class="error" id="e-{escape(item.key)}">{escape(error)}</p>' if error else ""
        if open_group is not None and stem == open_group:
            if item.folded:
                parts.append(f'<details{" open" if values.get(item.key) or error else ""}><summary class="sub">'
                             f"{escape(item.label)}</summary>{body}{problem}</details>")
            else:
                parts.append(f'<div class="sub">{escape(item.label)}</div>{body}{problem}')
            continue
        if open_group is not None:
            parts.append("</fieldset>")
        note = file_note if item.kind == "file" and file_note else item.hint
        hint = f'<span class="hint">{escape(note)}</span>' if note else ""
        parts.append(f'<fieldset{" class=bad" if error else ""}><legend>{escape(item.label)}{hint}</legend>'
                     f"{body}{problem}")
        open_group = stem if stem is not None else ""
    if open_group is not None:
        parts.append("</fieldset>")
    parts.append(f'<button type="submit">{escape(form.submit)}</button>')
    if draft_note:
        parts.append(f'<p class="draft">{escape(draft_note)}</p>')
    parts.append("</form>")
    return "".join(parts)


def page(title: str, body: str, locale: str, script: str = "", nonce: str = "",
         flags: tuple[str, ...] = (), draft: str = "") -> str:
    """A whole page; `flags` become `data-…="1"` on the body, for the page's script, and
    `draft` names the draft the page's script keeps or forgets."""
    lang = "zh-CN" if locale.startswith("zh") else "en"
    tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
    marks = "".join(f' data-{flag}="1"' for flag in flags) + (f' data-draft="{escape(draft)}"' if draft else "")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<title>{escape(title)}</title><style nonce="{nonce}">{STYLE}</style></head>'
            f"<body{marks}><main>{body}</main>{tag}</body></html>")
