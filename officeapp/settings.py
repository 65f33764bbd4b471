"""One settings module, read from the environment.

Nothing set means the embedded defaults: SQLite in WAL mode, the in-memory channel layer, a local
blob folder and the embedded search engine. Setting DATABASE_URL, REDIS_URL, S3_*,
ELASTICSEARCH_URL switches each part to the real service with no code change. Every variable is
listed with its default in the README; a malformed value stops start-up with ImproperlyConfigured.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)
# The embedded default is for one machine; production sets SECRET_KEY (a check refuses the default
# under --deploy). The default is stable so that sessions survive a restart of `make run`.
SECRET_KEY: str = env.str(
    "SECRET_KEY", default="officeapp-embedded-insecure-key-set-SECRET_KEY-in-production"
)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)
# Origins a browser socket may come from. Never "*": the session cookie rides along with any site's socket.
WEBSOCKET_ALLOWED_ORIGINS: list[str] = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=CSRF_TRUSTED_ORIGINS)
# Proxy headers are believed only when a trusted proxy is configured (their addresses).
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_q",
    # Before viewflow: viewflow ships its own 400/403/404/500 and registration templates, ours are Chinese.
    "officeapp",
    "viewflow",
    "viewflow.workflow",
    "officeapp.org",
    "officeapp.accounts",
    "officeapp.audit",
    "officeapp.notify",
    "officeapp.blobs",
    "officeapp.outbox",
    "officeapp.calendar",
    "officeapp.worker",
    "officeapp.health",
    "officeapp.workbench",
    "officeapp.integration",
    "oauth2_provider",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "documents",
    "chat",
    "workflows",
    "meetings",
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "officeapp.accounts.middleware.ClientAddressMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "officeapp.accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "officeapp.urls"
WSGI_APPLICATION = "officeapp.wsgi.application"
ASGI_APPLICATION = "officeapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "officeapp.workbench.context.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'officeapp.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the server read while one writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on busy_timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# --- Channels -------------------------------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # A publish on a pooled connection that went stale in a Redis restart is retried once
            # instead of lost (the tabs have reconnected by then and would never see it).
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "retry": Retry(NoBackoff(), 1),
                        "retry_on_error": [RedisConnectionError],
                    }
                ]
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # The in-memory layer reaches only sockets of this one process: notifications written by other
    # processes (the worker) are relayed by the server process from the database (officeapp.notify.relay).
    # Capacity 1,000 per channel: the default 100 silently drops a burst to a busy socket (a chat of 300
    # members answering at once); chat fills such holes from the database, but need not have to.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "officeapp_cache",
        }
    }

# --- Blob store -----------------------------------------------------------------------------
S3_ENDPOINT: str = env.str("S3_ENDPOINT", default="")
S3_ACCESS_KEY: str = env.str("S3_ACCESS_KEY", default="")
S3_SECRET_KEY: str = env.str("S3_SECRET_KEY", default="")
S3_BUCKET: str = env.str("S3_BUCKET", default="officeapp")
S3_SECURE: bool = env.bool("S3_SECURE", default=False)
S3_REGION: str = env.str("S3_REGION", default="")
BLOB_DIR = Path(env.str("BLOB_DIR", default=str(DATA_DIR / "blobs")))

# --- 公文 (documents) -----------------------------------------------------------------------------
# The passphrase that encrypts seals' private keys at rest. Defaults to one derived from SECRET_KEY
# (documents/sealing.py); production sets its own and keeps it apart from the database backups.
SEAL_KEY_SECRET: str = env.str("SEAL_KEY_SECRET", default="")
# LibreOffice (headless Writer) turns the GB/T 9704 .docx into the 版式 PDF, in the worker.
LIBREOFFICE_BIN: str = env.str("LIBREOFFICE_BIN", default="soffice")
RENDER_TIMEOUT_SECONDS: int = env.int("RENDER_TIMEOUT_SECONDS", default=180)
UPLOAD_MAX_BYTES: int = env.int("UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# 催办 rule in 工作日 (workflows/urging.py): remind `before` days ahead, on the `due` day, every
# `overdue` days after it; escalate to the department head after `head` and to the 分管 leader after
# `leader` overdue working days; 0 turns a part off.
REMINDER_RULE: str = env.str("REMINDER_RULE", default="before=1,due,overdue=1,head=2,leader=5")
# 督办: an item turns yellow when its 完成时限 is within this many working days (workflows/supervision_lights.py).
SUPERVISION_YELLOW_DAYS: int = env.int("SUPERVISION_YELLOW_DAYS", default=3)
# Chat (即时通讯): a person may send CHAT_SEND_RATE_COUNT messages per CHAT_SEND_RATE_SECONDS; a text
# message holds at most CHAT_MESSAGE_MAX_CHARS characters; a group holds at most CHAT_GROUP_MAX_MEMBERS.
CHAT_SEND_RATE: tuple[int, int] = (
    env.int("CHAT_SEND_RATE_COUNT", default=30),
    env.int("CHAT_SEND_RATE_SECONDS", default=10),
)
CHAT_MESSAGE_MAX_CHARS: int = env.int("CHAT_MESSAGE_MAX_CHARS", default=5000)
CHAT_GROUP_MAX_MEMBERS: int = env.int("CHAT_GROUP_MAX_MEMBERS", default=500)
CHAT_FILE_MAX_BYTES: int = env.int("CHAT_FILE_MAX_BYTES", default=50 * 1024 * 1024)
# How officeapp.notify.fanout writes a live frame to each socket (D36): "direct" hands pre-framed
# bytes to daphne's TCP transport, "prepared" goes through autobahn, "asgi" is every consumer's own
# base_send — the switch to turn the direct path off should an upgrade of daphne/autobahn/Twisted break it.
FANOUT_SEND_PATH: str = env.str("FANOUT_SEND_PATH", default="direct")
if FANOUT_SEND_PATH not in ("direct", "prepared", "asgi"):
    raise ImproperlyConfigured("FANOUT_SEND_PATH 必须是 direct、prepared 或 asgi。")
# 办会: the largest meeting material (a PDF of slides can be large; still refused before storage).
MEETING_MATERIAL_MAX_BYTES: int = env.int("MEETING_MATERIAL_MAX_BYTES", default=100 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Unreferenced blobs younger than this are kept: an upload may be waiting for its form to commit.
BLOB_RETENTION_GRACE_HOURS: int = env.int("BLOB_RETENTION_GRACE_HOURS", default=24)

# /healthz runs every registered probe in parallel under this deadline.
HEALTH_CHECK_TIMEOUT_SECONDS: float = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=3.0)

# --- Search (the search app reads these) ----------------------------------------------------
ELASTICSEARCH_URL: str = env.str("ELASTICSEARCH_URL", default="")
# The embedded engine's index (one SQLite FTS5 file, written by the worker, read by every web process).
SEARCH_INDEX_PATH = Path(env.str("SEARCH_INDEX_PATH", default=str(DATA_DIR / "search" / "index.sqlite3")))
# Elasticsearch: every index and alias name starts with this prefix; the analyzer for Chinese text
# (built-in "cjk" by default; "ik_max_word" or "smartcn" when those plugins are installed).
SEARCH_ES_INDEX_PREFIX: str = env.str("SEARCH_ES_INDEX_PREFIX", default="officeapp")
SEARCH_ES_ANALYZER: str = env.str("SEARCH_ES_ANALYZER", default="cjk")
SEARCH_ES_TIMEOUT_SECONDS: float = env.float("SEARCH_ES_TIMEOUT_SECONDS", default=5.0)
# Attachment text extraction (in the worker): larger files are indexed by name only; extraction
# stops after this many seconds or characters.
SEARCH_EXTRACT_MAX_BYTES: int = env.int("SEARCH_EXTRACT_MAX_BYTES", default=30 * 1024 * 1024)
SEARCH_EXTRACT_TIMEOUT_SECONDS: float = env.float("SEARCH_EXTRACT_TIMEOUT_SECONDS", default=20.0)
SEARCH_EXTRACT_MAX_CHARS: int = env.int("SEARCH_EXTRACT_MAX_CHARS", default=200_000)

# --- Integration platform (issue 10: officeapp.integration) ----------------------------------
# The REST API under /api/v1/: DRF with OAuth2 bearer tokens from our own provider (django-oauth-toolkit).
# Errors are JSON {"error": {"code", "message"}} with Chinese messages (officeapp.integration.rest).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["officeapp.integration.rest.AppTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["officeapp.integration.rest.HasApiScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["officeapp.integration.rest.AppRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "officeapp.integration.rest.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "officeapp.integration.rest.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "officeapp 开放接口",
    "DESCRIPTION": "公文、公文交换、督办、会议、通讯录的读取接口，待办与通知的推送接口，事件订阅。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "officeapp.integration.schema.error_responses",
    ],
}
# The OAuth2 / OpenID Connect provider for registered apps (django-oauth-toolkit). Scopes: the OIDC ones
# for signing users in to an app, and one per API area; an app gets only the scopes its registration
# grants (officeapp.integration.models.App.scopes), and a user token only what the user consented to.
API_SCOPES: dict[str, str] = {
    "directory.read": "读取通讯录",
    "documents.read": "读取公文及附件",
    "exchange.read": "读取公文交换状态",
    "supervision.read": "读取督办事项及进展",
    "meetings.read": "读取会议",
    "todos.write": "推送待办",
    "notifications.write": "发送通知",
    "webhooks.manage": "管理事件订阅",
}
# django-oauth-toolkit's models are swappable; named here so migrations can depend on them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"


def _oidc_signing_key() -> str:
    """The RSA key that signs ID tokens. Production sets OIDC_RSA_PRIVATE_KEY (PEM; a --deploy check
    refuses the embedded one); the embedded default is generated once into DATA_DIR, so tokens stay
    valid across restarts of `make run` — and in memory for a test run."""
    configured = env.str("OIDC_RSA_PRIVATE_KEY", default="").replace("\\n", "\n")
    if configured:
        return configured
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = DATA_DIR / "oidc-rsa.pem"
    if path.exists() and "PYTEST_VERSION" not in os.environ:
        return path.read_text()
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    if "PYTEST_VERSION" not in os.environ:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pem)
        path.chmod(0o600)
    return pem


OIDC_KEY_IS_EMBEDDED: bool = not env.str("OIDC_RSA_PRIVATE_KEY", default="")
OAUTH2_PROVIDER: dict[str, object] = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_signing_key(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grant, S256 PKCE only, tokens only in
    # the Authorization header, `iss` in the authorization response, tokens stored hashed, a replayed
    # refresh token revokes its whole family.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # https redirect URIs only in production; http for a developer's or a test's app on this machine.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"]
    if env.bool("OAUTH_ALLOW_HTTP_REDIRECTS", default=DEBUG or "PYTEST_VERSION" in os.environ)
    else ["https"],
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not env.bool(
        "OAUTH_ALLOW_HTTP_REDIRECTS", default=DEBUG or "PYTEST_VERSION" in os.environ
    ),
    "SCOPES": {
        "openid": "确认您的身份",
        "profile": "姓名、单位、部门",
        "email": "电子邮箱",
        "phone": "手机号码",
        **API_SCOPES,
    },
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_REFRESH_TOKEN_SECONDS", default=14 * 24 * 3600),
    "PKCE_REQUIRED": True,
    # Our rules on top of DOT's: active apps and users only, scopes the App grants, claims per scope.
    "OAUTH2_VALIDATOR_CLASS": "officeapp.integration.oidc.OfficeOAuth2Validator",
    # The authorization response's `iss` (RFC 9207) is the same issuer the ID token names.
    "OAUTH2_BACKEND_CLASS": "officeapp.integration.oidc.OfficeOAuthLibCore",
    # Consent is asked once: not again while the app holds a live token with the same scopes.
    "REQUEST_APPROVAL_PROMPT": "auto",
}
# Requests per minute an app may make when its registration sets no limit of its own; over it the app
# gets 429 with Retry-After. A bulk call counts once, and carries at most API_BULK_MAX_ITEMS items.
API_RATE_LIMIT_PER_MINUTE: int = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
API_BULK_MAX_ITEMS: int = env.int("API_BULK_MAX_ITEMS", default=5000)
# Webhook deliveries: each POST's timeout, and how many run at once in the worker.
WEBHOOK_TIMEOUT_SECONDS: float = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_CONCURRENCY: int = env.int("WEBHOOK_CONCURRENCY", default=16)

# --- Auth and sessions ----------------------------------------------------------------------
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "accounts:sign_in"
AUTHENTICATION_BACKENDS = ["officeapp.accounts.backends.LockoutAwareBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "real_name", "employee_no", "mobile")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "officeapp.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
# pytest (8.2+) sets PYTEST_VERSION for its session: a test file run by hand behaves as under `make test`.
TESTING: bool = env.bool("TESTING", default="PYTEST_VERSION" in os.environ)
if TESTING:
    # Hashing the cast's passwords with PBKDF2 would dominate the suite's time; tests of the hasher itself
    # are Django's business.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
SIGN_IN_MAX_FAILURES: int = env.int("SIGN_IN_MAX_FAILURES", default=5)
SIGN_IN_LOCK_MINUTES: int = env.int("SIGN_IN_LOCK_MINUTES", default=15)
# Per client address, a much higher threshold: a whole office may sit behind one NAT address.
SIGN_IN_MAX_FAILURES_PER_ADDRESS: int = env.int("SIGN_IN_MAX_FAILURES_PER_ADDRESS", default=100)
SESSION_IDLE_MINUTES: int = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_ABSOLUTE_HOURS: int = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="officeapp")

# --- Outside identity sources (统一身份认证: officeapp.accounts.identity) ---------------------------
# LDAP (django-auth-ldap) when LDAP_SERVER_URI is set: LDAP_USER_SEARCH_BASE, LDAP_BIND_DN,
# LDAP_BIND_PASSWORD, LDAP_USER_FILTER ("(uid=%(user)s)"), LDAP_MATCH_ATTRIBUTE ("uid") → LDAP_MATCH_FIELD
# ("username", or "employee_no"), LDAP_START_TLS, LDAP_TIMEOUT_SECONDS (5). OpenID Connect
# (mozilla-django-oidc) when OIDC_RP_CLIENT_ID is set: OIDC_RP_CLIENT_SECRET, OIDC_RP_DISCOVERY_URL or
# the four OIDC_OP_*_ENDPOINTs, OIDC_RP_MATCH_CLAIM ("preferred_username") → OIDC_RP_MATCH_FIELD
# ("username"), OIDC_RP_SIGN_IN_LABEL ("统一身份认证登录"), OIDC_RP_SCOPES ("openid profile").
# Outside accounts map to existing users only, and no user field is written from outside. Local
# passwords keep working beside them; LDAP_ONLY / OIDC_ONLY leave them to the 三员 alone (break-glass).
# Nothing set: local passwords only.
from officeapp.accounts.identity import settings_from_env as _outside_identity  # noqa: E402

globals().update(_outside_identity(os.environ))

# --- Deployment hardening (active when DEBUG is off; check --deploy passes with these) --------
SECURE_SSL: bool = env.bool("SECURE_SSL", default=False)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_SSL else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_SSL and TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Mail and SMS ---------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="officeapp@localhost")
SMS_BACKEND: str = env.str("SMS_BACKEND", default="officeapp.notify.sms.ConsoleSmsBackend")

# --- Worker (django-q2; the ORM broker needs nothing more; Redis when REDIS_URL is set) --------
Q_CLUSTER = {
    "name": "officeapp",
    "workers": env.int("WORKER_PROCESSES", default=2),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 5,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.5,
    "save_limit": 1000,
    "label": "后台任务",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"  # shown; stored in UTC because USE_TZ
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "officeapp.static_storage.StaticStorage"},
}
if DEBUG or TESTING:
    WHITENOISE_USE_FINDERS = True
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# Classified documents (秘密 and above) are refused unless a deployment explicitly allows them.
ALLOW_CLASSIFIED: bool = env.bool("ALLOW_CLASSIFIED", default=False)

if S3_ENDPOINT and not (S3_ACCESS_KEY and S3_SECRET_KEY):
    raise ImproperlyConfigured("S3_ENDPOINT 已设置，但缺少 S3_ACCESS_KEY / S3_SECRET_KEY。")
