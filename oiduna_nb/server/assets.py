"""Assets: samples and SynthDefs uploaded into the assets directory, and their listings.

Nothing is ever written outside the assets directory: categories and names are reduced to
safe characters, a directory that is a link is refused, and a file is written under a
temporary name and renamed into place only when whole, so a failed upload leaves nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import tornado.httputil

from .base import ApiError, BaseHandler
from .models import SampleList, SampleUploaded, SynthDefList, SynthDefUploaded
from .openapi_ops import Operation

SAMPLE_FORMATS = {".wav": "wav", ".aif": "aiff", ".aiff": "aiff", ".flac": "flac"}
SYNTHDEF_DIR = "synthdefs"
CATEGORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
SYNTHDEF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_NAME = 128


def sniff_audio(data: bytes) -> str | None:
    """The audio format the bytes really are, by their header."""
    if len(data) >= 12 and data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if len(data) >= 12 and data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if data[:4] == b"fLaC":
        return "flac"
    return None


def is_synthdef(data: bytes) -> bool:
    return data[:4] == b"SCgf"


def safe_filename(raw: str) -> str:
    """A plain file name: the last path part, safe characters only, no leading dot."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[: MAX_NAME - 8]
    if not stem:
        raise ApiError(422, f"File name {raw!r} has no usable characters")
    return f"{stem}.{ext.lower()}" if ext else stem


class AssetStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, name: str) -> Path:
        """``root/name``, created if needed; refused if it is a link or leads elsewhere."""
        root = self.root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        target = root / name
        if target.is_symlink():
            raise ApiError(422, f"Asset directory {name!r} is a link; refusing to write through it")
        target.mkdir(exist_ok=True)
        if target.resolve().parent != root:
            raise ApiError(422, f"Asset directory {name!r} is outside the assets directory")
        return target

    def _write(self, directory: Path, filename: str, data: bytes) -> Path:
        final = directory / filename
        if final.resolve().parent != directory.resolve():
            raise ApiError(422, f"File name {filename!r} leads outside its directory")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)  # replaces a link at that name, never follows it
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final

    def save_sample(self, category: str, raw_name: str, data: bytes) -> tuple[str, str]:
        if not CATEGORY.match(category) or category == SYNTHDEF_DIR:
            raise ApiError(422, "category must be 1-64 letters, digits, '_' or '-' (and not 'synthdefs')")
        filename = safe_filename(raw_name)
        ext = "." + filename.rsplit(".", 1)[-1] if "." in filename else ""
        if ext not in SAMPLE_FORMATS:
            raise ApiError(422, f"Sample files must be .wav, .aif, .aiff or .flac, not {raw_name!r}")
        found = sniff_audio(data)
        if found is None:
            raise ApiError(422, f"{raw_name!r} is not a WAV, AIFF or FLAC file (checked by its content)")
        if found != SAMPLE_FORMATS[ext]:
            raise ApiError(422, f"{raw_name!r} is named {ext} but its content is {found.upper()}")
        self._write(self._dir(category), filename, data)
        return filename, f"/samples/{category}/{filename}"

    def save_synthdef(self, name: str, data: bytes) -> str:
        if not SYNTHDEF_NAME.match(name):
            raise ApiError(422, "name must be 1-64 letters, digits, '_' or '-'")
        if not is_synthdef(data):
            raise ApiError(422, "The file is not a compiled SynthDef (.scsyndef starts with 'SCgf')")
        self._write(self._dir(SYNTHDEF_DIR), f"{name}.scsyndef", data)
        return f"/synthdefs/{name}.scsyndef"

    def samples(self) -> dict[str, list[str]]:
        root = self.root
        if not root.is_dir():
            return {}
        out = {}
        for category in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
            if category.name == SYNTHDEF_DIR:
                continue
            files = sorted(
                f.name for f in category.iterdir()
                if f.is_file() and not f.is_symlink() and f.suffix.lower() in SAMPLE_FORMATS
            )
            out[category.name] = files
        return out

    def synthdefs(self) -> list[str]:
        directory = self.root / SYNTHDEF_DIR
        if not directory.is_dir() or directory.is_symlink():
            return []
        return sorted(f.stem for f in directory.glob("*.scsyndef") if f.is_file() and not f.is_symlink())


class UploadHandler(BaseHandler):
    upload = True

    def form(self) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
        ctype = self.request.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            raise ApiError(400, "Content-Type must be multipart/form-data")
        args: dict[str, list[bytes]] = {}
        files: dict[str, list[tornado.httputil.HTTPFile]] = {}
        try:
            tornado.httputil.parse_body_arguments(ctype, self.body, args, files)
        except Exception as exc:  # tornado raises HTTPInputError on newer versions
            raise ApiError(400, f"Malformed multipart body: {exc}") from None
        fields = {}
        for key, values in args.items():
            try:
                fields[key] = values[0].decode()
            except UnicodeDecodeError:
                raise ApiError(422, f"Field {key!r} is not UTF-8 text") from None
        uploads = {key: (f[0].filename, f[0].body) for key, f in files.items() if f}
        return fields, uploads

    def require(self, table: dict, key: str, what: str):
        if key not in table:
            raise ApiError(422, [{"type": "missing", "loc": ["body", key], "msg": f"Field required ({what})", "input": None}])
        return table[key]


class SamplesHandler(UploadHandler):
    OPENAPI = {
        "post": Operation(
            "Upload an audio sample (.wav, .aif/.aiff, .flac; checked by content)",
            SampleUploaded,
            body="multipart",
            multipart_fields={"file": "file", "category": "string"},
            errors=(400, 403, 413, 422),
        ),
        "get": Operation("List uploaded samples by category", SampleList),
    }

    def post(self) -> None:
        fields, uploads = self.form()
        filename, data = self.require(uploads, "file", "an audio file")
        category = self.require(fields, "category", "a sample category").strip()
        saved, path = self.ctx.assets.save_sample(category, filename, data)
        self.reply(SampleUploaded(filename=saved, category=category, path=path))

    def get(self) -> None:
        self.reply(SampleList(samples=self.ctx.assets.samples()))


class SynthDefsHandler(UploadHandler):
    OPENAPI = {
        "post": Operation(
            "Upload a compiled SuperCollider SynthDef (.scsyndef; checked by content)",
            SynthDefUploaded,
            body="multipart",
            multipart_fields={"file": "file", "name": "string"},
            errors=(400, 403, 413, 422),
        ),
        "get": Operation("List uploaded SynthDefs", SynthDefList),
    }

    def post(self) -> None:
        fields, uploads = self.form()
        _, data = self.require(uploads, "file", "a .scsyndef file")
        name = self.require(fields, "name", "the SynthDef name").strip()
        path = self.ctx.assets.save_synthdef(name, data)
        self.reply(SynthDefUploaded(name=name, path=path))

    def get(self) -> None:
        self.reply(SynthDefList(synthdefs=self.ctx.assets.synthdefs()))


ROUTES = [
    (r"/assets/samples", SamplesHandler),
    (r"/assets/synthdefs", SynthDefsHandler),
]
