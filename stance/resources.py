"""Access to the data packaged with ``stance``: sample corpus, and (through the language packs of
:mod:`stance.lang`) actors, lexicon and default model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir() -> Path:
    """Folder of the packaged data files."""
    return Path(str(resources.files("stance") / "data"))


def sample_corpus_dir() -> Path:
    """Folder of the bundled sample corpus (five German files, see ``data/seeds``)."""
    return data_dir() / "seeds"


def sample_corpus_files() -> tuple[Path, ...]:
    """The bundled sample corpus files in a fixed order."""
    return tuple(sorted(sample_corpus_dir().glob("*.txt")))


def actors_file(language: str | None = None) -> Path:
    """The actor registry (TOML) of a language pack (default German: the packaged registry)."""
    from .lang import get_pack

    return get_pack(language).actors_file


def lexicon_file(language: str | None = None) -> Path:
    """The polarity lexicon of a language pack (German: Rauh 2018, TSV)."""
    from .lang import get_pack

    return get_pack(language).lexicon_file


def default_model_dir(language: str | None = None) -> Path:
    """Folder of the default model of a language pack (default: the packaged German model).

    Raises
    ------
    ModelNotFoundError
        If the pack has no default model.
    """
    from .errors import ModelNotFoundError
    from .lang import get_pack

    pack = get_pack(language)
    if pack.default_model_dir is None:
        raise ModelNotFoundError(f"the {pack.name} language pack ({pack.code!r}) has no default model; "
                                 "train one with `stance train` and load it by its path")
    return pack.default_model_dir
