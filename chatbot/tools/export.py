"""`python -m chatbot export-model`: make an OpenVINO export folder for the openvino backend.

    --gguf FILE.gguf   OpenVINO GenAI reads the GGUF and writes the folder (model, tokenizer, detokenizer),
                       keeping the GGUF's own weight quantization; needs only requirements.txt. Loading the
                       folder later skips the conversion a .gguf needs at every start.
    --model HUB_ID     optimum-intel exports the original weights (int4/int8/fp16); it needs
                       requirements-export.txt, which conflicts with requirements.txt's transformers, so it
                       runs `optimum-cli` from another environment (--optimum-cli PATH, README "Models").
    --gguf FILE.gguf --weight-format int4|int8 --optimum-cli PATH
                       both: transformers dequantizes the GGUF into a Hugging Face folder, optimum-intel
                       exports that. Faster than the GGUF's own layout in OpenVINO (README "Speed"), but the
                       weights are quantized twice.

Users with a model hub usually need neither: the openvino backend's default model
(OpenVINO/Qwen2.5-1.5B-Instruct-int4-ov) is already an export.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..llm import OV_MODEL

EXPORT_FILES = ("openvino_model.xml", "openvino_model.bin", "openvino_tokenizer.xml", "openvino_tokenizer.bin",
                "openvino_detokenizer.xml", "openvino_detokenizer.bin")


class ExportError(RuntimeError):
    """The export could not be made; the message says why and what to do."""


def export_gguf(gguf: Path, out: Path) -> Path:
    """Convert a .gguf file into an OpenVINO export folder `out` (created; an existing export there is
    refused rather than overwritten). The conversion runs in a scratch folder, so a failure leaves
    nothing half-written at `out`."""
    gguf, out = Path(gguf).expanduser(), Path(out).expanduser()
    if not gguf.is_file() or gguf.suffix != ".gguf":
        raise ExportError(f"{gguf} is not a .gguf file")
    if (out / OV_MODEL).exists():
        raise ExportError(f"{out} already holds an OpenVINO export; remove it or choose another --out")
    try:
        import openvino_genai
    except ImportError as e:
        raise ExportError("openvino-genai is not installed; run `pip install -r requirements.txt`") from e
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as scratch:
        link = Path(scratch) / gguf.name
        link.symlink_to(gguf.resolve())  # the reader writes its files beside the path it is given
        try:
            openvino_genai.LLMPipeline(str(link), "CPU", enable_save_ov_model=True)
        except Exception as e:  # noqa: BLE001
            raise ExportError(f"OpenVINO GenAI cannot convert {gguf}: {str(e).strip().splitlines()[-1]}") from e
        missing = [f for f in EXPORT_FILES if not (Path(scratch) / f).is_file()]
        if missing:
            raise ExportError(f"the conversion of {gguf} wrote no {', '.join(missing)}")
        out.mkdir(exist_ok=True)
        for name in EXPORT_FILES:
            shutil.move(str(Path(scratch) / name), out / name)
    return out


def dequantize_gguf(gguf: Path, folder: Path) -> Path:
    """A Hugging Face folder (bfloat16 safetensors, tokenizer, chat template) from a .gguf file."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(gguf).expanduser()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16)
    # the weights are plain tensors once dequantized; transformers refuses to save a "gguf-quantized" model
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return Path(folder)


def export_gguf_optimum(gguf: Path, out: Path, weights: str, optimum_cli: str = "optimum-cli") -> Path:
    """Dequantize a .gguf file (transformers) and export it with optimum-intel at `weights`."""
    if (Path(out) / OV_MODEL).exists():
        raise ExportError(f"{out} already holds an OpenVINO export; remove it or choose another --out")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=Path(out).parent, prefix=".dequantized-") as scratch:
        return export_hub(str(dequantize_gguf(gguf, Path(scratch))), Path(out), weights, optimum_cli)


def export_hub(model: str, out: Path, weights: str = "int4", optimum_cli: str = "optimum-cli") -> Path:
    """Export a Hugging Face model (hub id or folder) with optimum-intel's `optimum-cli export openvino`;
    int4 is symmetric with groups of 128 over all layers (measured fastest here, README "Speed")."""
    exe = shutil.which(optimum_cli) or (optimum_cli if Path(optimum_cli).is_file() else None)
    if exe is None:
        raise ExportError("optimum-cli was not found. It conflicts with requirements.txt, so install it in its own "
                          "environment: `python -m venv .export && .export/bin/pip install -r requirements-export.txt`, "
                          "then pass --optimum-cli .export/bin/optimum-cli")
    cmd = [exe, "export", "openvino", "--model", model, "--task", "text-generation-with-past",
           "--weight-format", weights, *(["--group-size", "128", "--ratio", "1.0", "--sym"] if weights == "int4" else []),
           str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not (Path(out) / OV_MODEL).is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ExportError(f"`{' '.join(cmd)}` failed:\n" + "\n".join(tail))
    return Path(out)
