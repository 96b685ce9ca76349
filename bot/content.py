"""The assistant's content as Rasa sees it: domain.yml merged with the answers in data/.

`domain.yml` holds the dialogue core and the responses rules and actions name; the
answers to questions live by patient goal in `data/responses/`, and Rasa merges
every `responses:` key of the training data into the domain (its
ResponsesSyncImporter). This loads the domain through the same importer that
`rasa train` and `rasa data validate` use, so the content tests, the content
report and the channels read exactly what the model is trained with.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

from bot.settings import PROJECT_ROOT

DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
CONFIG_PATH = PROJECT_ROOT / "config.yml"
DATA_PATH = PROJECT_ROOT / "data"


def load_domain(root: Path = PROJECT_ROOT) -> Dict[str, Any]:
    """The merged domain as plain data (`responses`, `slots`, `intents`, ...)."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(
        str(root / "config.yml"), str(root / "domain.yml"), [str(root / "data")]
    )
    return importer.get_domain().as_dict()


@lru_cache(maxsize=1)
def domain() -> Dict[str, Any]:
    """The project's merged domain, loaded once."""
    return load_domain()
