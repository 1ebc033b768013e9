# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
from dataclasses import dataclass, field


def env(name, default=None, cast=str):
    value = os.environ.get(name)
    if value is None:
        return default
    if cast is bool:
        return value.lower() in ("1", "true", "yes", "on")
    return cast(value)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: env("DATABASE_URL", "postgresql://localhost/app"))
    secret_key: str = field(default_factory=lambda: env("SECRET_KEY", "dev-only-not-secret"))
    api_token: str = field(default_factory=lambda: env("API_TOKEN", ""))
    debug: bool = field(default_factory=lambda: env("DEBUG", False, bool))
    workers: int = field(default_factory=lambda: env("WORKERS", 2, int))


settings = Settings()
if settings.debug:
    print({k: ("***" if "secret" in k or "token" in k else v) for k, v in vars(settings).items()})
