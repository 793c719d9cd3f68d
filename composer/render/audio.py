"""Audio: MIDI bytes -> WAV, FLAC, Ogg Vorbis or MP3, through FluidSynth and a GM SoundFont.

FluidSynth (the Debian package's command-line synthesiser) renders the MIDI file faster than
real time to 32-bit float, so nothing clips inside the synth; we then cut the result to the
song's length plus a short tail (with a fade, so a ringing reverb does not stop in a click),
normalise it to -14 LUFS integrated with the true peak under -1 dBTP
(:mod:`composer.render.loudness`), and encode it with libsndfile (the ``soundfile`` wheel).

The SoundFont is the first of :data:`SOUNDFONTS` that exists (``$SONGC_SOUNDFONT`` first):
the Debian packages ``fluid-soundfont-gm`` (FluidR3, 140 MB, the better one) or
``timgm6mb-soundfont`` (6 MB, what `make render-deps` installs). Nothing is downloaded at
run time.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer.render.tools import MissingTool

RATE = 44100
TAIL_SECONDS = 2.0  # after the last bar: the release and the reverb ring out
FADE_SECONDS = 0.5  # the last part of the tail fades to silence
TARGET_LUFS = -14.0  # the level streaming services play music at
CEILING_DBTP = -1.0
INSTALL = "make render-deps (or: apt-get install fluidsynth timgm6mb-soundfont)"

SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf3/default-GM.sf3"),
)

# Synth settings: a medium room, reverb a little under FluidSynth's default level (GM files
# ask for reverb with CC91, which our MIDI does not send, so the default send applies), light
# chorus; gain 0.5 keeps a full band's sum well inside float range before normalising.
SYNTH_SETTINGS = {
    "synth.gain": "0.5",
    "synth.reverb.active": "1",
    "synth.reverb.room-size": "0.5",
    "synth.reverb.damp": "0.3",
    "synth.reverb.width": "0.8",
    "synth.reverb.level": "0.5",
    "synth.chorus.active": "1",
    "synth.chorus.level": "1.2",
    "synth.chorus.depth": "4",
    "synth.sample-rate": str(RATE),
}

# suffix -> (libsndfile format, subtype); mp3 only where the libsndfile in use can write it
ENCODINGS: dict[str, tuple[str, str]] = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}


@dataclass(frozen=True)
class Audio:
    data: bytes
    seconds: float
    lufs: float
    true_peak_dbtp: float
    soundfont: str


def soundfont() -> Path:
    """The SoundFont to render with, or :class:`MissingTool` naming how to install one."""
    env = os.environ.get("SONGC_SOUNDFONT")
    if env:
        if not Path(env).is_file():
            raise MissingTool("SONGC_SOUNDFONT", f"'{env}' is not a file")
        return Path(env)
    for p in SOUNDFONTS:
        if p.is_file():
            return p
    raise MissingTool("--output", f"audio needs a General MIDI SoundFont: run {INSTALL}")


def fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise MissingTool(
            "--output", f"audio needs fluidsynth, which is not installed: run {INSTALL}"
        )
    return exe


def check_encoder(suffix: str) -> None:
    """Fail before any work when the asked format cannot be written here."""
    fluidsynth()
    soundfont()
    import soundfile as sf

    fmt, subtype = ENCODINGS[suffix]
    if fmt not in sf.available_formats() or subtype not in sf.available_subtypes(fmt):
        raise MissingTool(
            "--output",
            f"this libsndfile ({sf.__libsndfile_version__}) cannot write {suffix}: "
            "pip install --upgrade soundfile (1.1+ writes MP3), or choose .wav, .flac or .ogg",
        )


def synthesise(midi: bytes) -> np.ndarray:
    """Float audio (samples, 2) of ``midi``, as FluidSynth plays it."""
    import soundfile as sf

    exe, sf2 = fluidsynth(), soundfont()
    with tempfile.TemporaryDirectory(prefix="songc-audio-") as tmp:
        mid, wav = Path(tmp) / "song.mid", Path(tmp) / "song.wav"
        mid.write_bytes(midi)
        settings = [arg for k, v in SYNTH_SETTINGS.items() for arg in ("-o", f"{k}={v}")]
        cmd = [exe, "-n", "-i", "-q", *settings, "-F", str(wav), "-T", "wav", "-O", "float"]
        run = subprocess.run(
            [*cmd, "-r", str(RATE), str(sf2), str(mid)], capture_output=True, text=True
        )
        if run.returncode != 0 or not wav.is_file():
            why = " ".join((run.stderr or run.stdout or "no output").split())[:200]
            raise MissingTool("--output", f"fluidsynth failed ({run.returncode}): {why}")
        audio, _ = sf.read(str(wav), dtype="float32", always_2d=True)
    return np.asarray(audio)


WRITE_BLOCK = 16384  # frames per write to the encoder
SILENCE = 1e-4  # -80 dBFS: where a MIDI file of unknown length is taken to have ended


def fit_length(audio: np.ndarray, seconds: float | None) -> np.ndarray:
    """``audio`` cut or padded to ``seconds`` (None: to its last sound) plus the tail, the
    tail's end faded out."""
    if seconds is None:
        loud = np.flatnonzero(np.abs(audio).max(axis=1) > SILENCE)
        seconds = (loud[-1] + 1) / RATE if loud.size else 0.0
    n = round((seconds + TAIL_SECONDS) * RATE)
    out = np.zeros((n, audio.shape[1]), dtype=np.float32)
    m = min(n, len(audio))
    out[:m] = audio[:m]
    fade = round(FADE_SECONDS * RATE)
    out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return out


@functools.lru_cache(maxsize=1)  # -o song.wav -o song.mp3: synthesise and normalise once
def _mastered(midi: bytes, seconds: float | None) -> tuple[np.ndarray, float, float]:
    from composer.render.loudness import normalise

    return normalise(fit_length(synthesise(midi), seconds), RATE, TARGET_LUFS, CEILING_DBTP)


def render_audio(midi: bytes, seconds: float | None, suffix: str) -> Audio:
    """Encoded audio of ``midi`` (a song ``seconds`` long; None: as long as it sounds) in the
    format of ``suffix``."""
    import io

    import soundfile as sf

    check_encoder(suffix)
    audio, lufs, tp = _mastered(midi, seconds)
    fmt, subtype = ENCODINGS[suffix]
    buf = io.BytesIO()
    # written in blocks: libsndfile's Vorbis encoder crashes on one large write
    with sf.SoundFile(buf, "w", RATE, audio.shape[1], format=fmt, subtype=subtype) as out:
        for i in range(0, len(audio), WRITE_BLOCK):
            out.write(audio[i : i + WRITE_BLOCK])
    return Audio(buf.getvalue(), len(audio) / RATE, round(lufs, 2), round(tp, 2), soundfont().name)
