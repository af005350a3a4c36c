"""Settings from the environment and a ``.env`` file (pydantic-settings does the parsing).

The seed's names (``OSC_HOST``, ``OSC_PORT``, ``MIDI_PORT``, ...) are read as they are;
ours carry an ``OIDUNA_`` prefix.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .engine.config import EngineConfig

DATA_DIR = Path.home() / ".local" / "share" / "oiduna_nb"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    osc_host: str = Field("127.0.0.1", validation_alias=_env("OSC_HOST", "osc_host"))
    osc_port: int = Field(57120, ge=1, le=65535, validation_alias=_env("OSC_PORT", "osc_port"))
    midi_port: str | None = Field(None, validation_alias=_env("MIDI_PORT", "midi_port"))
    midi_api: str = Field("auto", validation_alias=_env("OIDUNA_MIDI_API", "midi_api"))
    midi_clock_out: bool = Field(False, validation_alias=_env("OIDUNA_MIDI_CLOCK_OUT", "midi_clock_out"),
                                 description="send MIDI clock (24 pulses a beat, start/stop) on the MIDI output")
    midi_clock_in: str | None = Field(None, validation_alias=_env("OIDUNA_MIDI_CLOCK_IN", "midi_clock_in"),
                                      description="follow a MIDI clock: an input port's name, or 'virtual'")
    lookahead: float | None = Field(None, gt=0, le=2, validation_alias=_env("OIDUNA_LOOKAHEAD", "lookahead"),
                                    description="seconds ahead; default: the output's own (SuperDirt 0.2, scsynth 0.1)")
    midi_latency: float = Field(0.0, ge=0, le=2, validation_alias=_env("OIDUNA_MIDI_LATENCY", "midi_latency"))
    # Ableton Link (the link extra): tempo and phase shared with other apps and machines.
    link: bool = Field(False, validation_alias=_env("OIDUNA_LINK", "link"),
                       description="Join the Ableton Link session on the network at start")
    link_start_stop: bool = Field(False, validation_alias=_env("OIDUNA_LINK_START_STOP", "link_start_stop"),
                                  description="Start and stop with the Link session")

    # Where the sound goes: SuperDirt, or our instruments on an embedded or a system scsynth.
    output: str = Field("auto", validation_alias=_env("OIDUNA_OUTPUT", "output"),
                        description="auto | superdirt | embedded | scsynth")
    scsynth_host: str = Field("127.0.0.1", validation_alias=_env("OIDUNA_SCSYNTH_HOST", "scsynth_host"))
    scsynth_port: int = Field(57110, ge=1, le=65535, validation_alias=_env("OIDUNA_SCSYNTH_PORT", "scsynth_port"))

    # Daydream Scope, and the API's proxy to it (off unless enabled).
    scope_url: str | None = Field(None, validation_alias=_env("SCOPE_URL", "scope_url"))
    scope_proxy_enable: bool = Field(False, validation_alias=_env("SCOPE_PROXY_ENABLE", "scope_proxy_enable"))
    scope_proxy_token: str | None = Field(None, validation_alias=_env("SCOPE_PROXY_TOKEN", "scope_proxy_token"))
    scope_proxy_max_in_flight: int = Field(
        8, ge=1, le=1024, validation_alias=_env("SCOPE_PROXY_MAX_IN_FLIGHT", "scope_proxy_max_in_flight"),
        description="Requests the Scope proxy forwards at once; more answer 503",
    )

    # The HTTP/SSE API. It binds loopback unless told otherwise; any other address needs a token.
    api_host: str = Field("127.0.0.1", validation_alias=_env("API_HOST", "api_host"))
    api_port: int = Field(57122, ge=0, le=65535, validation_alias=_env("API_PORT", "api_port"))
    token: str | None = Field(None, validation_alias=_env("OIDUNA_TOKEN", "token"))
    cors_origins: str = Field(
        "",
        validation_alias=_env("OIDUNA_CORS_ORIGINS", "cors_origins"),
        description="Comma-separated origins allowed besides http(s)://localhost|127.0.0.1|[::1]; * allows all",
    )
    data_dir: Path = Field(
        DATA_DIR,
        validation_alias=_env("OIDUNA_DATA_DIR", "data_dir"),
        description="Where the autosaved session and the server's log go",
    )
    assets_dir: Path = Field(
        DATA_DIR / "assets",
        validation_alias=_env("OIDUNA_ASSETS_DIR", "assets_dir"),
    )
    max_body_bytes: int = Field(1 << 20, ge=1024, validation_alias=_env("OIDUNA_MAX_BODY", "max_body_bytes"))
    max_upload_bytes: int = Field(
        64 << 20, ge=1024, validation_alias=_env("OIDUNA_MAX_UPLOAD", "max_upload_bytes")
    )
    max_sse_subscribers: int = Field(
        2048, ge=1, validation_alias=_env("OIDUNA_MAX_SUBSCRIBERS", "max_sse_subscribers")
    )
    autosave: bool = Field(True, validation_alias=_env("OIDUNA_AUTOSAVE", "autosave"),
                           description="Keep the session in <data_dir>/sessions/autosave.json")

    @model_validator(mode="after")
    def _assets_in_data_dir(self) -> "Settings":
        if "assets_dir" not in self.model_fields_set and "data_dir" in self.model_fields_set:
            self.assets_dir = self.data_dir / "assets"
        return self

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            osc_host=self.osc_host,
            osc_port=self.osc_port,
            lookahead=self.lookahead,
            midi_latency=self.midi_latency,
            midi_api=self.midi_api,
            midi_port=self.midi_port or None,
            link=self.link,
            link_start_stop=self.link_start_stop,
        )
