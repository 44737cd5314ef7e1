#!/usr/bin/env python3
"""Builds the chat-template fixtures ChatTemplateTests compare against (transformers and TRL are the reference).

Run from anywhere:  python3 Tests/LanguageModelsTests/Fixtures/chat/make_chat_fixtures.py
Needs: transformers (5.x), tokenizers, trl.  Writes, next to this script:
  tokenizers/<name>/tokenizer.json   the small tokenizers of Tests/TokenizersTests/Fixtures (made by its
                                     make_fixtures.py), copied compactly; "gemma" adds Gemma's special tokens
  templates/<name>/tokenizer_config.json
                                     tokenizer configs as models ship them, with each family's chat_template
                                     (written below from the public templates; the hub is not reachable here),
                                     plus variants for recognition tests (re-indented, list form,
                                     chat_template.jinja, templates run by the interpreter, no template)
  expected.json                      for every family x conversation x add_generation_prompt (one entry when
                                     both are the same): transformers'
                                     apply_chat_template text and ids, or the error it raises; the assistant
                                     token mask from return_assistant_tokens_mask with a {% generation %} copy of
                                     the template (a string of 0/1); the generation spans as UTF-8 byte ranges; whether tokenizing
                                     the text piecewise at those spans gives the same ids; and TRL SFTTrainer's
                                     prompt-completion ids and completion mask.
"""
import json
import os
import shutil

from tokenizers import AddedToken, Tokenizer
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import render_jinja_template
from trl.data_utils import _tokenize, common_prefix_length

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER_FIXTURES = os.path.join(HERE, "..", "..", "..", "TokenizersTests", "Fixtures")

# ---------------------------------------------------------------------------------------------
# Chat templates (Jinja source, as in each model's tokenizer_config.json after JSON decoding)
# ---------------------------------------------------------------------------------------------
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

QWEN2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

QWEN25 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

# Qwen3 (hybrid thinking models).
QWEN3 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""
# Training copy: the assistant's header stays outside {% generation %}, everything it writes after it inside.
_QWEN3_ASSISTANT_START = "        {%- if loop.index0 > ns.last_query_index %}"
_QWEN3_ASSISTANT_END = "        {{- '<|im_end|>\\n' }}\n    {%- elif message.role == \"tool\" %}"
QWEN3_ASSISTANT_GEN = (
    "        {{- '<|im_start|>' + message.role + '\\n' }}\n"
    "        {%- generation %}\n"
    "        {%- if loop.index0 > ns.last_query_index and (loop.last or reasoning_content) %}\n"
    "            {{- '<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}\n"
    "        {%- else %}\n"
    "            {{- content }}\n"
    "        {%- endif %}\n"
    "        {{- '<|im_end|>' }}\n"
    "        {%- endgeneration %}\n"
    "        {{- '\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}")
QWEN3_ASSISTANT = QWEN3[QWEN3.index(_QWEN3_ASSISTANT_START):QWEN3.index(_QWEN3_ASSISTANT_END) + len(_QWEN3_ASSISTANT_END)]

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")

# Llama 3.1 / 3.3 (tools, builtin tools and ipython included as shipped).
LLAMA31 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""
# Llama 3.2 text models: the same, dated with strftime_now (today) when no date_string is given.
LLAMA32 = LLAMA31.replace(
    '{%- if not date_string is defined %}\n    {%- set date_string = "26 Jul 2024" %}\n{%- endif %}',
    '{%- if not date_string is defined %}\n    {%- if strftime_now is defined %}\n'
    '        {%- set date_string = strftime_now("%d %b %Y") %}\n    {%- else %}\n'
    '        {%- set date_string = "26 Jul 2024" %}\n    {%- endif %}\n{%- endif %}')
assert LLAMA32 != LLAMA31
# Llama 3.2 Vision writes content untrimmed, with images: not the text format.
LLAMA32_VISION = LLAMA32.replace(
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}",
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}{%- for content in message['content'] %}"
    "{%- if content['type'] == 'image' %}{{- '<|image|>' }}{%- elif content['type'] == 'text' %}{{- content['text'] }}"
    "{%- endif %}{%- endfor %}{{- '<|eot_id|>' }}")
assert LLAMA32_VISION != LLAMA32

LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")

# Mistral-7B-Instruct-v0.3 / Mistral-Small-2409: system text in the last user turn, tools support.
MISTRAL = r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

# Mistral-7B-Instruct-v0.1 / v0.2: system text in the first user turn, spaces around [INST] and [/INST].
MISTRAL_V1 = r"""{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

# Mistral-Nemo-Instruct-2407 (tool parts left out): no spaces, system text in the last user turn.
MISTRAL_NEMO = r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- for message in loop_messages %}
    {%- if (message["role"] == "user") != (loop.index0 % 2 == 0) %}
        {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST]" + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST]" + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- message["content"] + eos_token}}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

# The first Mistral-7B-Instruct-v0.1 template (also Mixtral-8x7B-Instruct-v0.1): no system role.
MISTRAL_LEGACY = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")

# Gemma 3 (the string literals hold real newlines, as in the shipped file).
GEMMA = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

# Gemma 1 and 2.
GEMMA2 = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}")

# Anthropic HH-RLHF transcripts (no model ships this; it is the format of the dataset's text).
HH = (
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ '\\n\\nHuman: ' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{{ '\\n\\nAssistant: ' + message['content'] }}"
    "{% else %}{{ raise_exception('HH transcripts have only Human and Assistant turns') }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '\\n\\nAssistant:' }}{% endif %}")

# The same templates with {% generation %} around what the assistant must produce (content + turn terminator),
# made by exact substitution so the rendering cannot drift; checked to render identically below.
CHATML_TURN = "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
CHATML_TURN_GEN = (
    "{{'<|im_start|>' + message['role'] + '\\n'}}{% if message['role'] == 'assistant' %}{% generation %}"
    "{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}{% else %}"
    "{{ message['content'] + '<|im_end|>' + '\\n' }}{% endif %}")
LLAMA31_TURN = ("{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
                "'<|eot_id|>' }}")
LLAMA31_TURN_GEN = (
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}{%- else %}"
    "{{- message['content'] | trim + '<|eot_id|>' }}{%- endif %}")
GENERATION_EDITS = {
    "chatml": [(CHATML_TURN, CHATML_TURN_GEN)],
    "qwen2": [(CHATML_TURN, CHATML_TURN_GEN)],
    "qwen2.5": [("{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
                 "{{- '<|im_start|>' + message.role + '\\n' }}{%- if message.role == 'assistant' %}{% generation %}"
                 "{{- message.content + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}{%- else %}"
                 "{{- message.content + '<|im_end|>' + '\\n' }}{%- endif %}")],
    "qwen3": [(QWEN3_ASSISTANT, QWEN3_ASSISTANT_GEN)],
    "llama3": [("{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
                "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + "
                "content %}{% endif %}{{ content }}",
                "{% if loop.index0 == 0 %}{{ bos_token }}{% endif %}{{ '<|start_header_id|>' + message['role'] + "
                "'<|end_header_id|>\\n\\n' }}{% if message['role'] == 'assistant' %}{% generation %}"
                "{{ message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}{% else %}"
                "{{ message['content'] | trim + '<|eot_id|>' }}{% endif %}")],
    "llama3.1": [(LLAMA31_TURN, LLAMA31_TURN_GEN)],
    "llama3.2": [(LLAMA31_TURN, LLAMA31_TURN_GEN)],
    "llama2": [("{{ ' '  + content.strip() + ' ' + eos_token }}",
                "{% generation %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endgeneration %}")],
    "mistral": [('{{- " " + message["content"]|trim + eos_token}}',
                 '{% generation %}{{- " " + message["content"]|trim + eos_token}}{% endgeneration %}')],
    "mistral-v1": [("{{- ' ' + message['content'] + eos_token}}",
                    "{% generation %}{{- ' ' + message['content'] + eos_token}}{% endgeneration %}")],
    "mistral-nemo": [('{{- message["content"] + eos_token}}',
                      '{% generation %}{{- message["content"] + eos_token}}{% endgeneration %}')],
    "mistral-legacy": [("{{ message['content'] + eos_token}}",
                        "{% generation %}{{ message['content'] + eos_token}}{% endgeneration %}")],
    "gemma": [("        {{ message['content'] | trim }}",
               "        {%- if role == 'model' -%}{% generation %}{{ message['content'] | trim }}"
               "{{ '<end_of_turn>' }}{% endgeneration %}{%- else -%}{{ message['content'] | trim }}{%- endif -%}"),
              ("    {{ '<end_of_turn>\n' }}", "    {{ '\n' if role == 'model' else '<end_of_turn>\n' }}")],
    "gemma2": [("{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}",
                "{{ '<start_of_turn>' + role + '\\n' }}{% if role == 'model' %}{% generation %}"
                "{{ message['content'] | trim + '<end_of_turn>' }}{% endgeneration %}{{ '\\n' }}{% else %}"
                "{{ message['content'] | trim + '<end_of_turn>\\n' }}{% endif %}")],
    "hh": [("{{ '\\n\\nAssistant: ' + message['content'] }}",
            "{{ '\\n\\nAssistant:' }}{% generation %}{{ ' ' + message['content'] }}{% endgeneration %}")],
}

# ---------------------------------------------------------------------------------------------
# Families: template, tokenizer, special tokens
# ---------------------------------------------------------------------------------------------
QWEN_CONVERSATIONS = ["single_user", "system_user", "multi_turn", "ends_with_user", "whitespace", "late_system",
                      "tool_role"]
FAMILIES = {
    "chatml": dict(template=CHATML, tokenizer="qwen2", bos=None, eos="<|im_end|>"),
    # ChatML plus a default system prompt: the conversations where that matters.
    "qwen2": dict(template=QWEN2, tokenizer="qwen2", bos=None, eos="<|im_end|>", only=QWEN_CONVERSATIONS),
    "qwen2.5": dict(template=QWEN25, tokenizer="qwen2", bos=None, eos="<|im_end|>", only=QWEN_CONVERSATIONS),
    "qwen3": dict(template=QWEN3, tokenizer="qwen2", bos=None, eos="<|im_end|>"),
    "llama3": dict(template=LLAMA3, tokenizer="llama3", bos="<|begin_of_text|>", eos="<|eot_id|>"),
    "llama3.1": dict(template=LLAMA31, tokenizer="llama3", bos="<|begin_of_text|>", eos="<|eot_id|>"),
    # Dated explicitly: the template's own default is the day the fixtures are made.
    "llama3.2": dict(template=LLAMA32, tokenizer="llama3", bos="<|begin_of_text|>", eos="<|eot_id|>",
                     kwargs={"date_string": "05 Mar 2025"}, only=["single_user", "multi_turn", "tool_role"]),
    "llama2": dict(template=LLAMA2, tokenizer="sentencepiece", bos="<s>", eos="</s>"),
    "mistral": dict(template=MISTRAL, tokenizer="metaspace", bos="<s>", eos="</s>"),
    "mistral-v1": dict(template=MISTRAL_V1, tokenizer="metaspace", bos="<s>", eos="</s>"),
    "mistral-nemo": dict(template=MISTRAL_NEMO, tokenizer="metaspace", bos="<s>", eos="</s>"),
    "mistral-legacy": dict(template=MISTRAL_LEGACY, tokenizer="sentencepiece", bos="<s>", eos="</s>"),
    "gemma": dict(template=GEMMA, tokenizer="gemma", bos="<bos>", eos="<eos>"),
    "gemma2": dict(template=GEMMA2, tokenizer="gemma", bos="<bos>", eos="<eos>"),
    "hh": dict(template=HH, tokenizer="gpt2", bos=None, eos=None),
}
# Extra tokenizer pairings: plain-text boundaries (hh) and ChatML on other byte-level vocabularies.
# (family, tokenizer, template kwargs, conversations): a few conversations each, to keep the fixtures small.
EXTRA_PAIRINGS = [
    ("hh", "llama3", {}, ["one_exchange", "whitespace", "newline_content", "empty_assistant", "ends_with_user"]),
    ("chatml", "gpt2", {}, ["multi_turn", "whitespace", "unicode", "special_text"]),
    ("qwen3", "qwen2", {"enable_thinking": False}, ["single_user", "one_exchange", "reasoning"]),
]


def msg(role, content):
    return {"role": role, "content": content}


S, U, A = (lambda c: msg("system", c)), (lambda c: msg("user", c)), (lambda c: msg("assistant", c))
CONVERSATIONS = {
    "single_user": [U("Hello there, how are you?")],
    "system_user": [S("You are a terse assistant."), U("Name a prime number.")],
    "one_exchange": [U("What is 2 + 2?"), A("It is 4.")],
    "multi_turn": [S("Be kind."), U("Hi!"), A("Hello! How can I help?"), U("Tell me a joke."),
                   A("Why did the tensor cross the road? To broadcast.")],
    "ends_with_user": [U("First question?"), A("First answer."), U("Second question?")],
    "whitespace": [U("  padded question?\n"), A("\n\nLeading newlines and  inner  spaces.  \n"), U("ok"),
                   A(" leading space")],
    "unicode": [S("Réponds en français."), U("café 日本語 👍 naïve?"), A("Ångström — “quoted” 🎉 done.")],
    "empty_assistant": [U("Say nothing."), A(""), U("Now say something."), A("Something.")],
    "special_text": [U("What does </s> or <|im_end|> mean?"), A("They end a turn: </s> <|im_end|>.")],
    "newline_content": [U("Line one\nLine two"), A("Answer line one\n\nAnswer line three")],
    "reasoning": [U("What is 6 x 7?"), A("<think>\nsix sevens\n</think>\n\n42"), U("And 6 x 8?"),
                  A("<think>\n\nsix eights\n\n</think>\n\n\n48")],
    # Invalid for the [INST] and Gemma families.
    "two_users": [U("First."), U("Second.")],
    "starts_with_assistant": [A("I speak first."), U("Then me.")],
    "late_system": [U("Hi."), A("Hello."), S("Be brief."), U("Bye.")],
    "tool_role": [U("Weather?"), A("Calling the tool."), msg("tool", "sunny"), A("It is sunny.")],
}
PROMPT_COMPLETIONS = {
    "simple": ([U("What is the capital of France?")], [A("Paris.")]),
    "with_system": ([S("Answer in one word."), U("Capital of Italy?")], [A("Rome")]),
    "multi_turn": ([U("Hi"), A("Hello!"), U("Count to three.")], [A("1, 2, 3.")]),
    "leading_space": ([U("Spell it")], [A(" a b c ")]),
}

# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------
def load_tokenizers():
    out = {}
    for name in ["qwen2", "llama3", "gpt2", "sentencepiece", "metaspace"]:
        out[name] = Tokenizer.from_file(os.path.join(TOKENIZER_FIXTURES, name, "tokenizer.json"))
    # Gemma: SentencePiece-style BPE with a Replace(" " -> "▁") normalizer (no dummy prefix) and its turn tokens.
    data = json.loads(out["sentencepiece"].to_str())
    data["normalizer"] = {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
    gemma = Tokenizer.from_str(json.dumps(data))
    gemma.add_special_tokens([AddedToken(t, special=True) for t in
                              ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"]])
    out["gemma"] = gemma
    return out


def write_tokenizers(tokenizers):
    paths = {}
    for name, tok in tokenizers.items():
        folder = os.path.join(HERE, "tokenizers", name)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "tokenizer.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(tok.to_str(pretty=False))
        paths[name] = path
    return paths


def hf_tokenizer(path, bos, eos):
    return PreTrainedTokenizerFast(tokenizer_file=path, bos_token=bos, eos_token=eos)


# ---------------------------------------------------------------------------------------------
# tokenizer_config.json files
# ---------------------------------------------------------------------------------------------
def added_tokens_decoder(tok):
    return {str(t_id): {"content": t.content, "lstrip": t.lstrip, "normalized": t.normalized, "rstrip": t.rstrip,
                        "single_word": t.single_word, "special": t.special}
            for t_id, t in sorted(tok.get_added_tokens_decoder().items())}


def config(tok, template, bos, eos, tokenizer_class="PreTrainedTokenizerFast", **extra):
    result = {"add_bos_token": bos is not None and tokenizer_class == "LlamaTokenizer", "add_eos_token": False,
              "added_tokens_decoder": added_tokens_decoder(tok), "bos_token": bos}
    if template is not None:
        result["chat_template"] = template
    result.update({"clean_up_tokenization_spaces": False, "eos_token": eos, "extra_special_tokens": {},
                   "model_max_length": 131072, "pad_token": None, "tokenizer_class": tokenizer_class})
    result.update(extra)
    return result


def reindent(template):
    """The same template with different formatting: newlines and indentation inside tags, spaces around filters."""
    return (template.replace("{% ", "{%- ").replace(" %}", " -%}\n    ").replace("{{ ", "{{  ").replace(" | trim", "|trim")
            .replace("{{'", "{{ '"))


QWEN3_LIKE = (
    "{%- for message in messages %}\n    {%- if message.role == \"assistant\" %}\n        {%- set content = "
    "message.content.split('</think>')[-1] %}\n        {{- '<|im_start|>' + message.role + '\\n<think>\\n\\n</think>"
    "\\n\\n' + content + '<|im_end|>\\n' }}\n    {%- else %}\n        {{- '<|im_start|>' + message.role + '\\n' + "
    "message.content + '<|im_end|>' + '\\n' }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}")
ZEPHYR = ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + "
          "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}"
          "\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
          "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")


def recognition_cases(tokenizers):
    """Template folders beyond the families' own: (name, files, expected format or None, template to render)."""
    qwen, llama = tokenizers["qwen2"], tokenizers["llama3"]
    cases = [
        ("llama3-reindented", {"tokenizer_config.json": config(llama, reindent(LLAMA3), "<|begin_of_text|>",
                                                               "<|eot_id|>")}, "llama3", reindent(LLAMA3)),
        ("chatml-list-form", {"tokenizer_config.json": config(qwen, [
            {"name": "default", "template": QWEN2}, {"name": "tool_use", "template": "{{ tools }}"}], None,
            "<|im_end|>")}, "qwen2", QWEN2),
        ("mistral-untrimmed", {"tokenizer_config.json": config(tokenizers["metaspace"], MISTRAL.replace(
            '" " + message["content"]|trim + eos_token', '" " + message["content"] + eos_token'),
            {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
            {"content": "</s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
            tokenizer_class="LlamaTokenizer")}, "mistral", None),
        ("jinja-file", {"tokenizer_config.json": config(llama, None, "<|begin_of_text|>", "<|eot_id|>"),
                        "chat_template.jinja": LLAMA3}, "llama3", LLAMA3),
        # Not built-in formats: Charter runs these templates with its Jinja interpreter ("jinja"). The vision
        # template writes today's date (strftime_now), so it has no fixed rendering to compare.
        ("llama3.2-vision", {"tokenizer_config.json": config(llama, LLAMA32_VISION, "<|begin_of_text|>", "<|eot_id|>")},
         "jinja", None),
        ("qwen3-like", {"tokenizer_config.json": config(qwen, QWEN3_LIKE, None, "<|im_end|>")}, "jinja", QWEN3_LIKE),
        ("zephyr", {"tokenizer_config.json": config(tokenizers["sentencepiece"], ZEPHYR, "<s>", "</s>")}, "jinja",
         ZEPHYR),
        ("base-model", {"tokenizer_config.json": config(llama, None, "<|begin_of_text|>", "<|end_of_text|>")},
         "missing", None),
    ]
    return cases


# ---------------------------------------------------------------------------------------------
# Expectations
# ---------------------------------------------------------------------------------------------
def byte_ranges(text, spans):
    return [[len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8"))] for start, end in spans]


def render_case(hf, family, template, messages, generation_prompt, kwargs):
    specials = {"bos_token": hf.bos_token, "eos_token": hf.eos_token, **kwargs}
    case = {}
    try:
        text = hf.apply_chat_template(messages, chat_template=template, tokenize=False,
                                      add_generation_prompt=generation_prompt, **kwargs)
    except Exception as error:  # the template raised: the Swift side must throw too
        return {"error": str(error)}
    ids = hf.apply_chat_template(messages, chat_template=template, tokenize=True, return_dict=True,
                                 add_generation_prompt=generation_prompt, **kwargs)["input_ids"]
    case["text"] = text
    case["ids"] = ids

    training = template
    for old, new in GENERATION_EDITS[family]:
        assert old in training, (family, old)
        training = training.replace(old, new)
    rendered, spans = render_jinja_template(conversations=[messages], chat_template=training,
                                            return_assistant_tokens_mask=True,
                                            add_generation_prompt=generation_prompt, **specials)
    assert rendered[0] == text, (family, messages, rendered[0], text)
    masked = hf.apply_chat_template(messages, chat_template=training, tokenize=True, return_dict=True,
                                    return_assistant_tokens_mask=True, add_generation_prompt=generation_prompt,
                                    **kwargs)
    assert masked["input_ids"] == ids
    case["assistant_mask"] = "".join(str(m) for m in masked["assistant_masks"])
    case["assistant_ranges"] = byte_ranges(text, spans[0])

    # Does tokenizing the pieces between span boundaries give the whole text's ids?
    cuts = [0] + [c for span in spans[0] for c in span] + [len(text)]
    pieces = []
    for start, end in zip(cuts, cuts[1:]):
        if start < end:
            pieces += hf(text[start:end], add_special_tokens=False)["input_ids"]
    case["pieces_match"] = pieces == ids
    return case


def prompt_completion_case(hf, template, prompt, completion, kwargs):
    kwargs = {"chat_template": template, **kwargs}
    try:
        prompt_ids = _tokenize(hf, prompt, add_generation_prompt=True, **kwargs)["input_ids"]
        ids = _tokenize(hf, prompt + completion, **kwargs)["input_ids"]
    except Exception as error:
        return {"error": str(error)}
    prompt_length = common_prefix_length(prompt_ids, ids)
    return {"ids": ids, "completion_mask": "0" * prompt_length + "1" * (len(ids) - prompt_length)}


def main():
    tokenizers = load_tokenizers()
    paths = write_tokenizers(tokenizers)
    shutil.rmtree(os.path.join(HERE, "templates"), ignore_errors=True)

    def write_folder(name, files):
        folder = os.path.join(HERE, "templates", name)
        os.makedirs(folder, exist_ok=True)
        for filename, content in files.items():
            with open(os.path.join(folder, filename), "w", encoding="utf-8") as f:
                if filename.endswith(".json"):
                    json.dump(content, f, indent=2, ensure_ascii=False)
                    f.write("\n")
                else:
                    f.write(content)

    expected = {"conversations": CONVERSATIONS,
                "prompt_completions": {k: {"prompt": p, "completion": c} for k, (p, c) in PROMPT_COMPLETIONS.items()},
                "families": [], "recognition": []}
    pairings = [(family, spec["tokenizer"], spec.get("kwargs", {}), spec.get("only", list(CONVERSATIONS)))
                for family, spec in FAMILIES.items()]
    for family, tokenizer_name, kwargs, only in pairings + EXTRA_PAIRINGS:
        spec = FAMILIES[family]
        if (family, tokenizer_name, kwargs, only) in pairings:
            write_folder(family, {"tokenizer_config.json": config(tokenizers[tokenizer_name], spec["template"],
                                                                  spec["bos"], spec["eos"])})
        hf = hf_tokenizer(paths[tokenizer_name], spec["bos"], spec["eos"])
        # transformers adds a bos/eos missing from the vocabulary; the pairing must not need that.
        assert len(hf) == tokenizers[tokenizer_name].get_vocab_size(with_added_tokens=True), (family, tokenizer_name)
        entry = {"family": family, "tokenizer": tokenizer_name, "bos": spec["bos"], "eos": spec["eos"],
                 "date_string": kwargs.get("date_string"), "enable_thinking": kwargs.get("enable_thinking"),
                 "cases": {}, "prompt_completion": {}}
        for name, messages in CONVERSATIONS.items():
            if name not in only:
                continue
            cases = [render_case(hf, family, spec["template"], messages, g, kwargs) for g in (False, True)]
            # One entry when add_generation_prompt changes nothing (Llama 2, Mistral, errors).
            entry["cases"][name] = cases[:1] if cases[0] == cases[1] else cases
        for name, (prompt, completion) in PROMPT_COMPLETIONS.items():
            entry["prompt_completion"][name] = prompt_completion_case(hf, spec["template"], prompt, completion, kwargs)
        expected["families"].append(entry)

    sample = [msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello."), msg("user", "Bye")]
    no_system = sample[1:]
    for name, files, expected_format, template in recognition_cases(tokenizers):
        write_folder(name, files)
        entry = {"folder": name, "format": expected_format}
        if template is not None:
            cfg = files["tokenizer_config.json"]
            hf = PreTrainedTokenizerFast(tokenizer_object=tokenizers["qwen2"], bos_token=cfg["bos_token"],
                                         eos_token=cfg["eos_token"])
            entry["renderings"] = [hf.apply_chat_template(m, chat_template=template, tokenize=False,
                                                          add_generation_prompt=True) for m in (sample, no_system)]
        expected["recognition"].append(entry)

    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
