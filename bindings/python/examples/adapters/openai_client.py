"""An OpenAI client guarded by promptsieve. The client reads
OPENAI_API_KEY and OPENAI_BASE_URL from the environment, so this runs
against the API or any compatible server."""

from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from promptsieve.openai import wrap

client = wrap(OpenAI(), output_context={"canaries": ["cnry-7f3a"]})
history: list[ChatCompletionMessageParam] = [{"role": "user", "content": "I am Alice Martin, write to alice@example.org"}]

# The model sees "I am [PERSON_1], write to [EMAIL_1]"; the reply comes back restored.
reply = client.chat.completions.create(model="gpt-4o-mini", messages=history)
print(reply.choices[0].message.content)

# Streamed: every delta restored as it arrives.
history += [{"role": "assistant", "content": reply.choices[0].message.content or ""}, {"role": "user", "content": "Shorter, please"}]
for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=history, stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()

# The Responses API: a conversation kept on the server keeps its placeholders.
first = client.responses.create(model="gpt-4o-mini", input="My manager is bob@example.org")
second = client.responses.create(model="gpt-4o-mini", input="Write to him", previous_response_id=first.id)
print(second.output_text)
