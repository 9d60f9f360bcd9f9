"""The operator and runner images, built by scripts/images.sh (cached by their inputs), as the
development cluster's node imports them: docker-archive files plus the names they carry."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from devcluster.cluster import ControlPlaneError

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "images.sh"


@dataclass(frozen=True)
class Images:
    """Both images of one build: `operator`/`runner` are full names with tag."""

    folder: Path
    operator: str
    runner: str

    @property
    def archives(self) -> list[Path]:
        return [self.folder / "operator.tar", self.folder / "runner.tar"]


def read_images(folder: Path) -> Images:
    names = dict(
        line.split("=", 1) for line in (folder / "images.env").read_text().splitlines() if line
    )
    return Images(folder=folder, operator=names["operator"], runner=names["runner"])


def build_images() -> Images:
    """Run scripts/images.sh (a no-op when nothing changed) and return what it built."""
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ControlPlaneError(
            f"scripts/images.sh failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return read_images(Path(result.stdout.strip().splitlines()[-1]))
