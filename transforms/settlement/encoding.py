"""Which text encoding a settlement file uses: detected from its bytes, with the download's charset as a hint.

Amazon sends UTF-8 (sometimes with a BOM), cp1252/ISO-8859-1 in some NA/EU files and cp932 (Shift_JIS) for
Japan, and rarely says which. A hint (the Content-Type charset) is believed only when the bytes agree with it.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
CP1252 = "cp1252"
LATIN1 = "latin-1"
CP932 = "cp932"

# Labels seen in Content-Type headers, mapped to the codec that decodes everything they cover: cp932 is
# Microsoft's superset of Shift_JIS, and ISO-8859-1 labels on the web mean windows-1252 in practice.
_HINT_CODECS = {
    "utf_8": UTF8,
    "utf_8_sig": UTF8,
    "shift_jis": CP932,
    "cp932": CP932,
    "ms932": CP932,
    "windows_31j": CP932,
    "latin_1": CP1252,
    "iso8859_1": CP1252,
    "cp1252": CP1252,
}


def codec_for_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    label = hint.strip().strip("\"'").lower()
    aliases = {"windows-31j": "cp932", "x-sjis": "shift_jis", "sjis": "shift_jis", "ms_kanji": "shift_jis"}
    try:
        name = codecs.lookup(aliases.get(label, label)).name
    except LookupError:
        return None
    return _HINT_CODECS.get(name.replace("-", "_"))


def _decodes(sample: bytes, encoding: str, *, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


class MixedEncodingError(ValueError):
    """Valid UTF-8 next to bytes that are not: two encodings in one file, which no single codec decodes."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        super().__init__(f"mixes UTF-8 text with bytes that are not UTF-8 (offset {offset})")


# A character that took 2+ bytes in UTF-8 (undecodable bytes become U+DC80..U+DCFF with surrogateescape).
_MULTIBYTE = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")


def _check_not_mixed(sample: bytes) -> None:
    text = sample.decode("utf-8", errors="surrogateescape")
    if _MULTIBYTE.search(text):
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MixedEncodingError(error.start) from None


def detect_encoding(sample: bytes, *, hint: str | None = None, complete: bool = False) -> str:
    """The codec for a file whose first bytes are `sample` (`complete` when the sample is the whole file)."""
    if sample.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if sample.isascii():
        return codec_for_hint(hint) or UTF8
    # Non-ASCII that is valid UTF-8 is almost never an accident, whatever the hint says (cp1252 decodes any
    # bytes and cp932 most), so UTF-8 wins; otherwise a hint the bytes agree with decides.
    if _decodes(sample, UTF8, complete=complete):
        return UTF8
    hinted = codec_for_hint(hint)
    if hinted is not None and hinted != UTF8 and _decodes(sample, hinted, complete=complete):
        return hinted
    candidates = [enc for enc in (CP932, CP1252) if _decodes(sample, enc, complete=complete)]
    chosen = LATIN1
    if len(candidates) == 1:
        chosen = candidates[0]
    elif candidates:
        best = from_bytes(sample, cp_isolation=candidates).best()
        chosen = best.encoding if best is not None and best.encoding in candidates else CP1252
    if chosen != CP932:
        # Real cp1252 text almost never forms UTF-8 sequences; cp932 can, so it is not held to this.
        _check_not_mixed(sample)
    return chosen
