"""Assets: samples and SynthDefs uploaded into the assets directory, and their listings.

Nothing is ever written outside the assets directory: categories and names are reduced to
safe characters, a directory that is a link is refused, and a file is written under a
temporary name, synced, and renamed into place only when whole, so a failed upload (or a
crash in the middle of one) leaves nothing behind; temporary files of a process that died
are removed when the store opens. A name that exists is never replaced unless asked.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from pathlib import Path

import tornado.httputil

from .audio_check import sniff_audio, structure_error
from .base import ApiError, BaseHandler
from .models import SampleList, SampleUploaded, SynthDefList, SynthDefUploaded
from .openapi_ops import Operation

SAMPLE_FORMATS = {".wav": "wav", ".aif": "aiff", ".aiff": "aiff", ".flac": "flac"}
SYNTHDEF_DIR = "synthdefs"
CATEGORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
SYNTHDEF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_NAME = 128


TEMP_PREFIX = ".upload-"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


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
        self.remove_stale_temporaries()

    def remove_stale_temporaries(self) -> int:
        """Temporary files of uploads whose process is gone (a crash mid-write)."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for tmp in self.root.glob(f"*/{TEMP_PREFIX}*.part"):
            pid = tmp.name[len(TEMP_PREFIX):].split("-", 1)[0]
            if not (pid.isdigit() and _alive(int(pid))) or time.time() - tmp.stat().st_mtime > 24 * 3600:
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed

    def _dir(self, name: str) -> Path:
        """``root/name``, created if needed; refused if it is a link or leads elsewhere."""
        root = self.root.resolve()
        target = root / name
        if target.is_symlink():
            raise ApiError(422, f"Asset directory {name!r} is a link; refusing to write through it")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage_error(exc) from None
        if target.resolve().parent != root:
            raise ApiError(422, f"Asset directory {name!r} is outside the assets directory")
        return target

    def _write(self, directory: Path, filename: str, data: bytes, overwrite: bool) -> Path:
        final = directory / filename
        if final.resolve().parent != directory.resolve():
            raise ApiError(422, f"File name {filename!r} leads outside its directory")
        if final.exists() and not overwrite:
            raise ApiError(409, f"{directory.name}/{filename} exists; send overwrite=true to replace it")
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".part")
        except OSError as exc:
            raise _storage_error(exc) from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)  # replaces a link at that name, never follows it
            _sync_dir(directory)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _storage_error(exc) from None
            raise
        return final

    def save_sample(self, category: str, raw_name: str, data: bytes, overwrite: bool = False) -> tuple[str, str]:
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
        problem = structure_error(data, found)
        if problem is not None:
            raise ApiError(422, f"{raw_name!r} is not a whole {found.upper()} file: {problem}")
        self._write(self._dir(category), filename, data, overwrite)
        return filename, f"/samples/{category}/{filename}"

    def save_synthdef(self, name: str, data: bytes, overwrite: bool = False) -> str:
        if not SYNTHDEF_NAME.match(name):
            raise ApiError(422, "name must be 1-64 letters, digits, '_' or '-'")
        if not is_synthdef(data):
            raise ApiError(422, "The file is not a compiled SynthDef (.scsyndef starts with 'SCgf')")
        self._write(self._dir(SYNTHDEF_DIR), f"{name}.scsyndef", data, overwrite)
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable: a crash right after it keeps the file."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on this platform: the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _storage_error(exc: OSError) -> ApiError:
    if exc.errno in DISK_FULL:
        return ApiError(507, f"Not enough space to store the upload ({exc.strerror})")
    return ApiError(507, f"The upload could not be stored ({exc.strerror or exc})")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class UploadHandler(BaseHandler):
    upload = True

    def overwrite(self, fields: dict[str, str]) -> bool:
        """Replace a file of the same name only when the client asks (form field or query)."""
        return _flag(fields.get("overwrite")) or _flag(self.get_query_argument("overwrite", None))

    def form(self) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
        self._body_complete()
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
            multipart_fields={"file": "file", "category": "string", "overwrite": "string"},
            errors=(400, 403, 409, 413, 422, 507),
        ),
        "get": Operation("List uploaded samples by category", SampleList),
    }

    def post(self) -> None:
        fields, uploads = self.form()
        filename, data = self.require(uploads, "file", "an audio file")
        category = self.require(fields, "category", "a sample category").strip()
        saved, path = self.ctx.assets.save_sample(category, filename, data, self.overwrite(fields))
        self.reply(SampleUploaded(filename=saved, category=category, path=path))

    def get(self) -> None:
        self.reply(SampleList(samples=self.ctx.assets.samples()))


class SynthDefsHandler(UploadHandler):
    OPENAPI = {
        "post": Operation(
            "Upload a compiled SuperCollider SynthDef (.scsyndef; checked by content)",
            SynthDefUploaded,
            body="multipart",
            multipart_fields={"file": "file", "name": "string", "overwrite": "string"},
            errors=(400, 403, 409, 413, 422, 507),
        ),
        "get": Operation("List uploaded SynthDefs", SynthDefList),
    }

    def post(self) -> None:
        fields, uploads = self.form()
        _, data = self.require(uploads, "file", "a .scsyndef file")
        name = self.require(fields, "name", "the SynthDef name").strip()
        path = self.ctx.assets.save_synthdef(name, data, self.overwrite(fields))
        self.reply(SynthDefUploaded(name=name, path=path))

    def get(self) -> None:
        self.reply(SynthDefList(synthdefs=self.ctx.assets.synthdefs()))


ROUTES = [
    (r"/assets/samples", SamplesHandler),
    (r"/assets/synthdefs", SynthDefsHandler),
]
