#!/usr/bin/env python3
"""Renders every chat template in templates/ on a fixed set of conversations with transformers, the reference
TemplatesTests compares Charter's Jinja interpreter against byte for byte.

Run from anywhere:  python3 Tests/TemplatesTests/Fixtures/make_references.py
Needs: transformers (5.x) and jinja2 (>= 3.1.6).  Writes references.json next to this script:

  {"transformers": version, "jinja2": version, "now": "...", "context": {special tokens},
   "conversations": {name: {"messages": [...], "tools": [...] (optional)}},
   "snippets": [{"name", "source", "variables", "text" or "error"/"error_type"}],  one Jinja feature each
   "cases": [{"template": family, "conversation": name, "add_generation_prompt": bool,
              "text": rendered text}  or  {..., "error": str(exception), "error_type": class name}]}

Rendering goes through transformers' own render_jinja_template (its sandboxed jinja2 environment with
trim_blocks, lstrip_blocks, loop controls, raise_exception, strftime_now, namespace, dict and its tojson), exactly as
tokenizer.apply_chat_template calls it, with the tokenizer's special tokens as extra variables. strftime_now reads a
fixed clock (NOW below, UTC) so that date-stamped templates (Llama 3.2, Granite, SmolLM3) are reproducible.
"""
import datetime as real_datetime
import json
import os

import jinja2
import transformers
import transformers.utils.chat_template_utils as chat_template_utils
from transformers.utils.chat_template_utils import render_jinja_template

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")

NOW = real_datetime.datetime(2024, 7, 26, 10, 30, 0)


class FixedClock(real_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


chat_template_utils.datetime = FixedClock

# What apply_chat_template adds from the tokenizer (its special_tokens_map); the same for every family here, since
# the test is about the interpreter, not about any one tokenizer.
CONTEXT = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}

CONVERSATIONS = {
    "single-turn": {"messages": [{"role": "user", "content": "Hello, how are you?"}]},
    "system-multi-turn": {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "2 + 2 = 4."},
        {"role": "user", "content": "And times 3?"},
    ]},
    "ends-with-assistant": {"messages": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "  Hello! How can I help?  "},
        {"role": "user", "content": "Tell me a joke.\n"},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
    ]},
    "unicode-and-quotes": {"messages": [
        {"role": "system", "content": "Réponds en français. 🙂"},
        {"role": "user", "content": "Qu'est-ce que \"Jinja\" ?\nRéponds\ten une ligne \\ merci."},
        {"role": "assistant", "content": "Un moteur de gabarits — «Jinja» <b>&</b>."},
    ]},
    "tool-call": {
        "tools": [WEATHER_TOOL],
        "messages": [
            {"role": "user", "content": "What's the weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{
                "id": "call12345", "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
            {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "22°C and sunny"},
            {"role": "assistant", "content": "It is 22°C and sunny in Paris."},
        ],
    },
}


# Small templates, one Jinja feature each (whitespace control, scoping, filters, tests, methods, Python formatting of
# values, errors), rendered in the same environment; "variables" are passed as extra template variables.
SNIPPETS = [
    ("lstrip-and-trim-blocks", "<ul>\n  {% for x in items %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n", {"items": [1, 2]}),
    ("minus-strips-both-sides", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}\n  c", {}),
    ("plus-keeps-indentation", "x\n    {%+ if true %}y{% endif %}\n", {}),
    ("variable-tags-are-not-stripped", "  {{ 1 }}  \n  {{- 2 -}}  \n  {{ 3 }}\n", {}),
    ("comments", "a\n  {# note #}\nb {#- tight -#} c", {}),
    ("loop-variables", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}]{{ loop.cycle('o', 'e') }} {% endfor %}", {}),
    ("loop-scope", "{% set x = 0 %}{% for i in [1, 2, 3] %}{{ x }}{% set x = i %}{{ x }}|{% endfor %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(total=0, seen=[]) %}{% for i in range(1, 5) %}{% set ns.total = ns.total + i %}{% set ns.seen = ns.seen + [i] %}{% endfor %}{{ ns.total }} {{ ns.seen }}", {}),
    ("filtered-loop-and-else", "{% for x in items if x > 1 %}{{ x }}/{{ loop.length }} {% else %}none{% endfor %}|{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", {"items": [1, 2, 3]}),
    ("break-and-continue", "{% for x in range(10) %}{% if x is odd %}{% continue %}{% endif %}{% if x > 6 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("unpacking", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | dictsort %}{{ k }}{% endfor %}{% set a, b = [1, 2] %}{{ b }}{{ a }}", {"d": {"b": 2, "a": 1}}),
    ("parenthesized-loop-targets", "{% for (k, v) in [('a', 1), ('b', 2)] %}{{ k }}{{ v }}{% endfor %}", {}),
    ("macros", "{% macro tag(name, body='x', close=true) %}<{{ name }}>{{ body }}{% if close %}</{{ name }}>{% endif %}{% endmacro %}{{ tag('a') }}{{ tag('b', close=false) }}{{ tag('i', 'y') }}", {}),
    ("call-block", "{% macro box(title) %}[{{ title }}: {{ caller() }}]{% endmacro %}{% call box('t') %}inside{% endcall %}", {}),
    ("set-block-and-filter-block", "{% set greeting %}  Hello {{ name }}  {% endset %}[{{ greeting | trim }}]{% filter upper %}shout {{ name }}{% endfilter %}", {"name": "Ada"}),
    ("python-values", "{{ none }} {{ true }} {{ [1, 'a', none, true, 1.5, {'k': \"it's\"}] }} {{ (1,) }} {{ {'a': [1, 2]} }} {{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1e-5 }} {{ 1e16 }} {{ 0.1 + 0.2 }}", {}),
    ("string-escapes", "{{ 'tab\\there\\nnew \\'q\\' \\\"d\\\" \\u00e9 \\x41 back\\\\slash' }}|{{ \"a\" 'b' }}", {}),
    ("arithmetic-and-comparison", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 'x' ~ 1 ~ none }} {{ not 0 }} {{ 0 or 'd' }} {{ 1 and 2 }} {{ 'b' in 'abc' }} {{ 2 not in [1] }} {{ 'k' in {'k': 1} }}", {}),
    ("conditional-expressions", "{{ 'yes' if flag else 'no' }}|{{ 'only' if not flag }}|{{ x if x is defined else 'fallback' }}", {"flag": True}),
    ("slices-and-indices", "{{ s[1:] }} {{ s[:-1] }} {{ s[::-1] }} {{ s[-1] }} {{ items[1:3] }} {{ items[::2] }} {{ items[-1] }} {{ items[5] }}|{{ out[:-1] }}", {"s": "héllo", "items": [1, 2, 3, 4], "out": '{"a": 1}'}),
    ("string-methods", "{{ ' x '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('x', 'lo')) }}|{{ 'aBc'.upper() }}{{ 'aBc'.lower() }}|{{ 'hello wORLD'.title() }}|{{ 'hello'.capitalize() }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'abcabc'.find('c') }}{{ 'abc'.find('z') }}|{{ '-'.join(['a', 'b']) }}|{{ 'a\\nb'.splitlines() }}|{{ 'abcb'.count('b') }}", {}),
    ("dict-methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 0) }} {{ d['a'] }} {{ d.a }} {{ d.missing is defined }} {{ d['missing'] is defined }}", {"d": {"a": 1, "b": [2]}}),
    ("filters-text", "{{ '  pad  ' | trim }}|{{ 'xhix' | trim('x') }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ 'a' | upper }}{{ 'B' | lower }}|{{ 'aXbX' | replace('X', '-') }}|{{ '<a href=\"x\">&\\'</a>' | escape }}|{{ 'x' | safe }}|{{ 'l1\\nl2\\n\\nl3' | indent(2) }}|{{ 'l1\\nl2' | indent(2, true) }}|{{ 'one two  three' | wordcount }}|{{ '%s-%d' | format('a', 3) }}", {}),
    ("filters-sequences", "{{ items | length }} {{ items | count }} {{ items | first }} {{ items | last }} {{ items | join(', ') }} {{ items | sort }} {{ items | sort(reverse=true) }} {{ items | reverse | list }} {{ items | unique | list }} {{ items | min }} {{ items | max }} {{ items | sum }} {{ items | batch(2) | list }} {{ 'abc' | list }} {{ 'abc' | length }}", {"items": [3, 1, 2, 3]}),
    ("filters-objects", "{{ people | map(attribute='name') | join('/') }} {{ people | selectattr('age', 'gt', 30) | map(attribute='name') | list }} {{ people | rejectattr('admin') | map(attribute='name') | list }} {{ people | selectattr('admin') | list | length }} {{ people | sort(attribute='age') | map(attribute='name') | list }} {{ people | map(attribute='nick', default='?') | list }} {{ [1, 2, 3, 4] | select('even') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ ['a', 'B'] | map('upper') | list }} {{ {'b': 1, 'a': 2} | dictsort }} {{ {'a': 1} | items | list }}", {"people": [{"name": "Ann", "age": 40, "admin": True}, {"name": "Bo", "age": 25, "admin": False}, {"name": "Cy", "age": 35}]}),
    ("filters-numbers-and-defaults", "{{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ '42' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3 | float }} {{ '1.5' | float }} {{ missing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | d('n') }} {{ 5 | string }}", {}),
    ("tojson", "{{ value | tojson }}|{{ value | tojson(indent=2) }}|{{ 'é\\n\"<>&' | tojson }}|{{ [] | tojson(indent=4) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ value | tojson(separators=(',', ':')) }}|{{ 1.0 | tojson }}", {"value": {"name": "x", "list": [1, 2.5, None, True], "nested": {"k": "v"}}}),
    ("tests", "{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1 is integer }} {{ 1.5 is float }} {{ true is boolean }} {{ false is false }} {{ true is true }} {{ d is mapping }} {{ d is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ l is sequence }} {{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 2 is equalto 2 }} {{ 'a' is in 'abc' }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ x is not none }} {{ range is callable }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 1 is ne 2 }}", {"x": 1, "d": {}, "l": [1]}),
    ("undefined", "[{{ missing }}][{{ missing | length }}][{% for x in missing %}x{% endfor %}][{{ missing is defined }}][{{ 'a' in missing }}][{{ missing == missing }}][{{ not missing }}][{{ d.nothing }}][{{ d['nothing'] }}][{{ l[9] }}]", {"d": {}, "l": []}),
    ("dict-and-range-globals", "{{ dict(a=1, b='x') }} {{ dict([('k', 1)]) }} {{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }}", {}),
    ("integer-arithmetic", "{{ 2 ** 62 }} {{ (-1) ** 3 }} {{ (-2) ** 5 }} {{ 0 ** 0 }} {{ -7 // 2 }} {{ 7 // -2 }} {{ -7 % 2 }} {{ 7 % -3 }} {{ 2 ** -1 }} {{ 9 ** 0.5 }}", {}),
    ("error-range-too-big", "{{ range(1000000) | length }}", {}),
    ("raw-block", "a {% raw %}{{ not run }} {% if %}{% endraw %} b\n  {% raw -%}  x  {%- endraw %}\nc", {}),
    ("percent-formatting", "{{ '%s has %d items' % ('list', 3) }}|{{ 'value: %r' % 'x' }}|{{ '100%%' % () }}", {}),
    ("strftime-now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%B %d, %Y') }}|{{ strftime_now('%A %a %j %I %p %y') }}", {}),
    ("raise-exception", "{% if true %}{{ raise_exception('Roles must alternate: ' ~ 3) }}{% endif %}", {}),
    ("error-undefined-attribute", "{{ missing.attribute }}", {}),
    ("error-undefined-in-arithmetic", "{{ missing + 1 }}", {}),
    ("error-concatenate-types", "{{ 'a' + 1 }}", {}),
    ("error-list-append-is-unsafe", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("error-none-is-not-iterable", "{% for x in none %}{% endfor %}", {}),
]


def render(template, conversation, add_generation_prompt):
    rendered, _ = render_jinja_template(
        conversations=[conversation["messages"]],
        tools=conversation.get("tools"),
        chat_template=template,
        add_generation_prompt=add_generation_prompt,
        **CONTEXT,
    )
    return rendered[0]


def main():
    cases = []
    for file in sorted(os.listdir(TEMPLATES)):
        if not file.endswith(".jinja"):
            continue
        with open(os.path.join(TEMPLATES, file), encoding="utf-8") as handle:
            template = handle.read()
        for name, conversation in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                case = {"template": file[:-len(".jinja")], "conversation": name,
                        "add_generation_prompt": add_generation_prompt}
                try:
                    case["text"] = render(template, conversation, add_generation_prompt)
                except Exception as error:  # the reference records what transformers raises
                    case["error"] = str(error)
                    case["error_type"] = type(error).__name__
                cases.append(case)
    snippets = []
    for name, source, variables in SNIPPETS:
        snippet = {"name": name, "source": source, "variables": variables}
        try:
            snippet["text"] = render_jinja_template(conversations=[[]], chat_template=source, **variables)[0][0]
        except Exception as error:
            snippet["error"] = str(error)
            snippet["error_type"] = type(error).__name__
        snippets.append(snippet)
    references = {
        "transformers": transformers.__version__, "jinja2": jinja2.__version__, "now": NOW.isoformat(),
        "context": CONTEXT, "conversations": CONVERSATIONS, "cases": cases, "snippets": snippets,
    }
    with open(os.path.join(HERE, "references.json"), "w", encoding="utf-8") as handle:
        json.dump(references, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    errors = sum("error" in case for case in cases)
    print(f"{len(cases)} cases ({errors} raise) from {len(cases) // (2 * len(CONVERSATIONS))} templates")


if __name__ == "__main__":
    main()
