"""Access to the data packaged with ``stance``: sample corpus, actors, lexicon, model."""

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


def actors_file() -> Path:
    """The packaged actor registry (TOML)."""
    return data_dir() / "actors_de.toml"


def lexicon_file() -> Path:
    """The packaged German political sentiment lexicon (Rauh 2018, TSV)."""
    return data_dir() / "lexicon" / "rauh_de_political_sentiment.tsv"


def default_model_dir() -> Path:
    """Folder of the packaged default German model."""
    return data_dir() / "models" / "default_de"
