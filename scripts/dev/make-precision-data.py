#!/usr/bin/env python3
"""Writes crates/promptsieve/tests/data/precision.jsonl: positives and
negatives for the personal-data and secret rules, in the shape detector test
suites use (a credential in a config line, a placeholder that must not be
reported, an identifier that only looks like one). Written for promptsieve;
no third-party test data is copied. The tokens are random (fixed seed), so
the file is stable: python3 scripts/dev/make-precision-data.py

Each line: {"name", "text", "expect": [{"entity", "match"}]}; a negative has
an empty `expect`. crates/promptsieve/tests/precision.rs scores it.
"""
import base64, json, pathlib, random

R = random.Random(20261207)
UP, LO, DG = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789"
ALNUM = UP + LO + DG
B32 = UP + "234567"
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"

def rnd(alpha, n):
    return "".join(R.choice(alpha) for _ in range(n))

def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")

cases = []

def pos(name, text, *matches):
    """A positive: each match is (entity, text)."""
    for _, m in matches:
        assert m in text, (name, m)
    cases.append({"name": name, "text": text, "expect": [{"entity": e, "match": m} for e, m in matches]})

def neg(name, text):
    cases.append({"name": name, "text": text, "expect": []})

# --- secrets: provider tokens in the places they leak from -----------------
CTX = [
    "export {k}={v}",
    "{k}=\"{v}\"",
    "Here is my key {v} - why does the request fail with 401?",
    "{{\"provider\": \"x\", \"key\": \"{v}\"}}",
    "client = Client(api_key=\"{v}\")",
    "  {k}: {v}",
    "[default]\n{k} = {v}\n",
    "I pasted {v} into the settings page but nothing happens",
]

def provider(name, key, make, n=8):
    for i in range(n):
        v = make()
        pos(f"{name}-{i}", CTX[i % len(CTX)].format(k=key, v=v), ("SECRET", v))

provider("openai-legacy", "OPENAI_API_KEY", lambda: "sk-" + rnd(ALNUM, 20) + "T3BlbkFJ" + rnd(ALNUM, 20))
provider("openai-proj", "OPENAI_API_KEY", lambda: "sk-proj-" + rnd(URLSAFE, 74) + "T3BlbkFJ" + rnd(URLSAFE, 74), 6)
provider("openai-svcacct", "OPENAI_API_KEY", lambda: "sk-svcacct-" + rnd(URLSAFE, 64) + "T3BlbkFJ" + rnd(ALNUM, 64), 3)
provider("anthropic", "ANTHROPIC_API_KEY", lambda: "sk-ant-api03-" + rnd(URLSAFE, 93) + "AA", 6)
provider("anthropic-admin", "ANTHROPIC_ADMIN_KEY", lambda: "sk-ant-admin01-" + rnd(URLSAFE, 93) + "AA", 2)
for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]:
    provider("github-" + p[:3], "GITHUB_TOKEN", lambda p=p: p + rnd(ALNUM, 36), 3)
provider("github-pat", "GH_TOKEN", lambda: "github_pat_" + rnd(ALNUM, 22) + "_" + rnd(ALNUM, 59), 4)
provider("gitlab", "GITLAB_TOKEN", lambda: "glpat-" + rnd(URLSAFE, 20), 6)
provider("slack-bot", "SLACK_BOT_TOKEN", lambda: "xoxb-" + rnd(DG, 12) + "-" + rnd(DG, 13) + "-" + rnd(ALNUM, 24), 4)
provider("slack-user", "SLACK_TOKEN", lambda: "xoxp-" + rnd(DG, 12) + "-" + rnd(DG, 12) + "-" + rnd(DG, 13) + "-" + rnd(HEX, 32), 3)
provider("slack-app", "SLACK_APP_TOKEN", lambda: "xoxa-2-" + rnd(DG, 12) + "-" + rnd(DG, 13) + "-" + rnd(ALNUM, 32), 2)
provider("stripe-sk", "STRIPE_SECRET_KEY", lambda: "sk_live_" + rnd(ALNUM, 24), 3)
provider("stripe-sk99", "STRIPE_SECRET_KEY", lambda: "sk_live_51" + rnd(ALNUM, 97), 2)
provider("stripe-rk", "STRIPE_RESTRICTED_KEY", lambda: "rk_live_" + rnd(ALNUM, 24), 2)
provider("stripe-pk", "STRIPE_PUBLISHABLE_KEY", lambda: "pk_live_" + rnd(ALNUM, 24), 2)
provider("aws-akia", "AWS_ACCESS_KEY_ID", lambda: "AKIA" + rnd(B32, 16), 6)
provider("aws-asia", "AWS_ACCESS_KEY_ID", lambda: "ASIA" + rnd(B32, 16), 3)
for i in range(6):
    v = "AIza" + rnd(ALNUM, 1) + rnd(URLSAFE, 33) + rnd(ALNUM, 1)
    pos(f"google-{i}", CTX[i].format(k="GOOGLE_API_KEY", v=v), ("SECRET", v))
provider("huggingface", "HF_TOKEN", lambda: "hf_" + rnd(UP + LO, 34), 5)
provider("huggingface-org", "HF_ORG_TOKEN", lambda: "api_org_" + rnd(UP + LO, 34), 4)

for i in range(4):
    v = rnd(B64, 40)
    pos(f"aws-secret-{i}", f"aws_secret_access_key = {v}", ("SECRET", v))

# Slack webhooks: the path after /services/ is the secret.
for i in range(4):
    v = "T" + rnd(UP + DG, 8) + "/B" + rnd(UP + DG, 10) + "/" + rnd(ALNUM, 24)
    pos(f"slack-webhook-{i}", f"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{v}", ("SECRET", v))

# Bearer JWTs in Authorization headers.
def jwt():
    head = b64url(json.dumps({"alg": R.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": rnd(DG, 10), "name": "x", "iat": 1700000000 + R.randrange(10**7)}).encode())
    return f"{head}.{body}.{rnd(URLSAFE, 43)}"
for i in range(5):
    v = jwt()
    t = [f"Authorization: Bearer {v}", f"curl -H 'Authorization: Bearer {v}' https://api.example.com/me",
         f"GET /v1/me HTTP/1.1\nHost: api.example.com\nAuthorization: Bearer {v}\n", f"the session cookie was {v}",
         f"{{\"headers\": {{\"Authorization\": \"Bearer {v}\"}}}}"][i]
    pos(f"jwt-bearer-{i}", t, ("SECRET", v))

# PEM private keys with real-looking bodies.
for i, kind in enumerate(["RSA ", "", "EC ", "OPENSSH ", "ENCRYPTED "]):
    raw = bytes(R.randrange(256) for _ in range(R.randrange(300, 900)))
    b = base64.b64encode(raw).decode()
    body = "\n".join(b[j:j + 64] for j in range(0, len(b), 64))
    v = f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
    pos(f"pem-{i}", f"key.pem:\n{v}\n", ("SECRET", v))

# Generic credential fields: hex, base64 and passwords in JSON, YAML, env, INI, headers.
GEN = [
    ("json-credentials", "{{\"credentials\": \"{v}\"}}", lambda: rnd(HEX, 64)),
    ("json-auth", "{{\"auth\": \"{v}\", \"user\": \"svc\"}}", lambda: base64.b64encode(bytes(R.randrange(256) for _ in range(30))).decode()),
    ("json-secret", "{{\"client_id\": \"abc\", \"client_secret\": \"{v}\"}}", lambda: rnd(ALNUM, 40)),
    ("json-password", "{{\"db\": {{\"password\": \"{v}\"}}}}", lambda: rnd(ALNUM + "!#%&*", 20)),
    ("yaml-password", "database:\n  user: app\n  password: {v}\n", lambda: rnd(ALNUM + "!#%&*", 18)),
    ("yaml-secret", "webhook:\n  secret: \"{v}\"\n", lambda: rnd(HEX, 40)),
    ("yaml-credentials", "service:\n  credentials: {v}\n", lambda: base64.b64encode(bytes(R.randrange(256) for _ in range(45))).decode()),
    ("env-password", "DB_PASSWORD={v}", lambda: rnd(ALNUM, 24)),
    ("env-secret", "JWT_SECRET={v}", lambda: rnd(HEX, 64)),
    ("env-auth", "AUTH_TOKEN={v}", lambda: rnd(ALNUM, 32)),
    ("ini-password", "[mysql]\nhost = db\npassword = {v}\n", lambda: rnd(ALNUM + "@#$%", 20)),
    ("ini-secret", "[oauth]\nclient_secret = {v}\n", lambda: rnd(URLSAFE, 35)),
    ("header-api-key", "X-Api-Key: {v}", lambda: rnd(HEX, 32)),
    ("header-auth-token", "X-Auth-Token: {v}", lambda: rnd(ALNUM, 40)),
    ("header-bearer-opaque", "Authorization: Bearer {v}", lambda: rnd(ALNUM, 40)),
    ("header-basic", "Authorization: Basic {v}", lambda: base64.b64encode(b"svc-user:" + rnd(ALNUM, 16).encode()).decode()),
    ("py-password", "conn = connect(host=\"db\", password=\"{v}\")", lambda: rnd(ALNUM + "!@#", 22)),
    ("toml-token", "[registry]\ntoken = \"{v}\"\n", lambda: rnd(ALNUM, 32)),
    ("env-api-key", "MAILGUN_API_KEY={v}", lambda: "key-" + rnd(HEX, 32)),
    ("prose-password", "my password is {v} please keep it safe", lambda: rnd(ALNUM + "!#", 18)),
]
for rep in range(2):
    for name, tmpl, make in GEN:
        v = make()
        pos(f"generic-{name}-{rep}", tmpl.format(v=v), ("SECRET", v))

# --- secrets: negatives -----------------------------------------------------
PLACEHOLDERS = [
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "gho_000000000000000000000000000000000000", "github_pat_" + "x" * 82,
    "AKIAXXXXXXXXXXXXXXXX", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "OPENAI_API_KEY=sk-1234567890abcdef1234567890abcdef1234567890abcdef",
    "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "api_key = \"sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\"",
    "sk-ant-api03-" + "x" * 93 + "AA", "ANTHROPIC_API_KEY=sk-ant-api03-your-key-here",
    "glpat-xxxxxxxxxxxxxxxxxxxx", "GITLAB_TOKEN=glpat-XXXXXXXXXXXXXXXXXXXX",
    "SLACK_BOT_TOKEN=xoxb-000000000000-0000000000000-XXXXXXXXXXXXXXXXXXXXXXXX",
    "SLACK_BOT_TOKEN=xoxb-your-bot-token-here",
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "stripe.api_key = \"sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\"", "STRIPE_KEY=sk_live_1234567890abcdefghijklmn",
    "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "HF_TOKEN=hf_YOUR_HUGGING_FACE_TOKEN",
    "api_org_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "GOOGLE_API_KEY=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "key=AIzaSyDUMMY_KEY_FOR_EXAMPLE_PURPOSES1",
    "api_key = \"your-api-key-here\"", "API_KEY=<YOUR_TOKEN>", "api_key: ${API_KEY}",
    "token = os.environ[\"GITHUB_TOKEN\"]", "password = os.environ.get(\"DB_PASSWORD\")",
    "apiKey: process.env.OPENAI_API_KEY", "secret: {{ vault_secret_value }}",
    "auth_token = \"%(AUTH_TOKEN)s\"", "password: \"********************\"",
    "password = \"<your-password-here>\"", "DB_PASSWORD=CHANGE_ME_BEFORE_DEPLOY",
    "secret_key = \"REPLACE_WITH_YOUR_SECRET_KEY\"", "api_key=\"dummy_api_key_for_tests_only\"",
    "password = \"abcdefghijklmnopqrstuvwxyz\"", "api_key = \"12345678901234567890\"",
    "secret = \"0000000000000000000000000000000000000000\"", "token = \"deadbeefdeadbeefdeadbeefdeadbeef\"",
    "token: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "password: qwertyuiopasdfghjkl123",
    "api_key = \"YOUR_API_KEY_HERE\"", "client_secret = \"<CLIENT_SECRET>\"",
    "Authorization: Bearer <token>", "Authorization: Bearer YOUR_ACCESS_TOKEN",
    "Authorization: Bearer ${ACCESS_TOKEN}", "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com",
    "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n<your private key here>\n-----END OPENSSH PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI...base64...\n-----END EC PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nYOUR_PRIVATE_KEY_HERE\n-----END PRIVATE KEY-----",
    "token = \"sample-token-1234567890\"", "password: example_password_123",
    "api_key: \"fake-key-for-local-development\"", "secret: \"test-secret-do-not-use-in-prod\"",
    "Use the key ghp_... from your settings", "the value looks like sk-... followed by 48 characters",
]
for i, t in enumerate(PLACEHOLDERS):
    neg(f"placeholder-{i}", t)

SHAPES = [
    "api_key = get_api_key()", "token = self.get_access_token_from_cache()",
    "password_field = snake_case_field_name", "secret_manager: CamelCaseSecretManager",
    "token_provider = DefaultAzureCredentialProvider", "private_key_path = \"/etc/ssl/private/server.key\"",
    "secret_file: ./config/secrets.production.yaml", "token_url = \"https://oauth2.googleapis.com/token\"",
    "auth_endpoint: https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    "secret_version = \"projects/my-project/secrets/db-password/versions/latest\"",
    "api_key_header = \"X-Api-Key-Header-Name\"", "password_policy: requireUppercaseAndDigits",
    "token_type = \"bearer\"", "max_tokens = 4096", "token_count: 1234567", "tokens = tokenizer.encode(text)",
    "password_min_length = 16", "secret_name: my-app-prod-database-credentials",
    "api_key = settings.OPENAI_API_KEY", "password = config.database.password_value",
    "token = request.headers.get(\"X-Auth-Token\")", "credentials = service_account.Credentials.from_service_account_file(path)",
    "auth: AuthenticationMiddlewareWithRetries", "AUTH_BACKEND=django.contrib.auth.backends.ModelBackend",
    "secret_key_ref: kubernetes_secret_key_reference", "apikey = ApiKeyAuthenticationProvider",
    "token_cache_dir = ~/.cache/huggingface/token", "password_hasher = argon2.PasswordHasher",
    "the token is stored in the vault, never in the repository",
    "Set the password to something long and random, at least sixteen characters.",
    "token: see the README for how to obtain one", "secret: the answer is forty-two",
    "password is required for this operation", "Your api key is shown only once after creation.",
    "the sk-learn library and task-1234567890123456789012 ids", "xoxo hugs and kisses from the team",
    "Rotate the AKIA keys every 90 days", "the ghp_ prefix marks a GitHub personal token",
    "commit 3f4c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b fixes the token refresh",
    "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "request_id = \"123e4567-e89b-12d3-a456-426614174000\"",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----",
    "eyJub3RhIjoiand0In0.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
    "The build id is 20240501123456789 and the artifact is app-1.2.3.tar.gz",
    "Bearer tokens expire after one hour; refresh them with the refresh token.",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc is Stripe's public test key",
    "Authorization: Basic", "password=", "token:", "api_key = None", "secret = null",
    "use hf_hub_download to fetch the model", "from huggingface_hub import HfApi, api_org_utils",
]
for i, t in enumerate(SHAPES):
    neg(f"shape-{i}", t)

# --- personal data: positives -------------------------------------------------
for i, (t, m) in enumerate([
    ("link-local fe80::1 is on the interface", "fe80::1"),
    ("multicast to ff02::1 failed", "ff02::1"),
    ("mapped ::ffff:192.0.2.1 shows up in the logs", "::ffff:192.0.2.1"),
    ("ping6 fe80::1%eth0 -c 3", "fe80::1%eth0"),
    ("route 2001:db8::/32 via the tunnel", "2001:db8::/32"),
    ("allow 2001:db8:abcd:12::/64 only", "2001:db8:abcd:12::/64"),
    ("the host fe80::a00:27ff:fe4e:66a1%enp0s3 answered", "fe80::a00:27ff:fe4e:66a1%enp0s3"),
    ("server 2001:db8::8a2e:370:7334 is down", "2001:db8::8a2e:370:7334"),
    ("loopback ::1 only", "::1"),
    ("客户端地址2001:db8::1出错", "2001:db8::1"),
]):
    pos(f"ipv6-{i}", t, ("IP_ADDRESS", m))
for i, (t, m) in enumerate([
    ("服务器192.168.1.10出错了", "192.168.1.10"),
    ("サーバー10.0.0.7に接続できません", "10.0.0.7"),
]):
    pos(f"ipv4-cjk-{i}", t, ("IP_ADDRESS", m))
for i, (t, m) in enumerate([
    ("DE89370400440532013000 Berlin", "DE89370400440532013000"),
    ("Bitte an DE89 3704 0044 0532 0130 00 Berlin überweisen", "DE89 3704 0044 0532 0130 00"),
    ("IBAN DE89-3704-0044-0532-0130-00 please", "DE89-3704-0044-0532-0130-00"),
    ("GB82 WEST 1234 5698 7654 32 London branch", "GB82 WEST 1234 5698 7654 32"),
    ("FR1420041010050500013M02606 Paris", "FR1420041010050500013M02606"),
    ("NL91ABNA0417164300 Amsterdam", "NL91ABNA0417164300"),
    ("BE68539007547034 Bruxelles", "BE68539007547034"),
    ("IBAN: BE68 5390 0754 7034 BRUSSELS", "BE68 5390 0754 7034"),
]):
    pos(f"iban-{i}", t, ("IBAN", m))
for i, (t, m) in enumerate([
    ("write to jane.doe[at]example.com", "jane.doe[at]example.com"),
    ("contact: jan(at)example.org", "jan(at)example.org"),
    ("mail me: name@example[dot]com", "name@example[dot]com"),
    ("reach bob at example dot com", "bob at example dot com"),
    ("send to user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ("Adresse: info@xn--mller-kva.de", "info@xn--mller-kva.de"),
    ("пишите на ivan@example.xn--p1ai", "ivan@example.xn--p1ai"),
    ("メールはtanaka@example.jpまでお願いします", "tanaka@example.jp"),
    ("이메일kim@example.kr로보내주세요", "kim@example.kr"),
    ("写信给 李@例子.中国", "李@例子.中国"),
    ("mail a.b@example.com\u200b now", "a.b@example.com"),
    ("mail \u200fa.b@example.com\u200f now", "a.b@example.com"),
    ("mail a.b@example.com\u0000 now", "a.b@example.com"),
    ("john.smith@example.co.uk wrote", "john.smith@example.co.uk"),
]):
    pos(f"email-{i}", t, ("EMAIL", m))
pos("cjk-phone-email", "请联系我13812345678或者发邮件到wang@example.com谢谢",
    ("PHONE", "13812345678"), ("EMAIL", "wang@example.com"))
for i, (t, m) in enumerate([
    ("请联系我13812345678或者发邮件", "13812345678"),
    ("call +1 415 555 2671 ok", "+1 415 555 2671"),
    ("call +1 415 555 2671\u200e ok", "+1 415 555 2671"),
]):
    pos(f"phone-{i}", t, ("PHONE", m))
for i, (t, m) in enumerate([
    ("key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv\u200b ok", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv"),
    ("token\u0000ghp_HS64k2k59yE6752aJg8r9HE60DlgkCplTXJU\u0000", "ghp_HS64k2k59yE6752aJg8r9HE60DlgkCplTXJU"),
]):
    pos(f"secret-hidden-{i}", t, ("SECRET", m))

# --- personal data: negatives -------------------------------------------------
for i, t in enumerate([
    "MAC 00:1A:2B:3C:4D:5E on eth0", "hw address 00-1a-2b-3c-4d-5e", "cisco mac 001a.2b3c.4d5e",
    "Device MAC: AA:BB:CC:DD:EE:FF, vendor Acme", "arp -a shows 3c:22:fb:9a:10:4e",
    "call std::vector<int>::iterator here", "use a::b and dead::beef in C++", "at 12:30:45 sharp",
    "ratio 3:2", "Version 1.2.3.4, final", "ISBN 978-3-16-148410-0", "look at google.com for it",
    "meet at noon at the station dot", "Foo::bar::baz() returns", "the regex [a-f0-9]{2}(:[a-f0-9]{2}){5}",
    "timestamp 2024-05-01T12:30:45Z", "DE12 is a postcode prefix, not DE89 3704", "order 4111 1111 1111 1112",
    "Rust path crate::detect::validate", "serial 00-1A-2B-3C-4D-5E-6F-70",
]):
    neg(f"pii-neg-{i}", t)

# --- added later; kept last so that the cases above keep their tokens ---------
# Letters-only tokens: a quarter of organisation tokens once read as names.
provider("huggingface-b", "HF_TOKEN", lambda: "hf_" + rnd(UP + LO, 34), 8)
provider("huggingface-org-b", "HF_ORG_TOKEN", lambda: "api_org_" + rnd(UP + LO, 34), 8)
# A token in a clone URL's user information is found alone, not with the host.
for i in range(3):
    v = "ghp_" + rnd(ALNUM, 36)
    pos(f"github-url-{i}", f"git clone https://x-access-token:{v}@github.com/acme/app.git", ("SECRET", v))
for i, t in enumerate([
    "curl -H \"Authorization: token ghp_16C7e42F292c6912E7710c838347Ae178B4a\" https://api.github.com/user",
    "password_mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()",
    "git clone https://token:${CI_JOB_TOKEN}@gitlab.example.com/group/project.git",
]):
    neg(f"shape-b-{i}", t)

out = pathlib.Path(__file__).resolve().parents[2] / "crates" / "promptsieve" / "tests" / "data" / "precision.jsonl"
out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases))
npos = sum(1 for c in cases if c["expect"])
print(f"{out.name}: {len(cases)} cases, {npos} positive, {len(cases) - npos} negative")
