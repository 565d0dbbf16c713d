"""Which of our (Tesseract) language codes the shipped PP-OCR recognition model reads.

PP-OCR has no per-language model choice at run time here: RapidOCR 3.10's wheel
ships one multilingual recognition model (``PP-OCRv6_rec_small.onnx``) whose
character dictionary is embedded in the model's metadata (key ``character``,
one character a line; 18,708 entries in 3.10.0: Chinese (simplified and
traditional), Japanese kana and kanji, Latin letters with diacritics, digits,
punctuation, Greek without tonos). A language is offered when both hold:

1. RapidOCR lists its PP-OCR code for that model
   (``RapidOCR.list_supported_langs("rec", "PP-OCRv6", "small")``, from the
   wheel's ``default_models.yaml``, ``ppocrv6_langs``), and
2. every letter of the language's alphabet outside ``a-z`` (lower and upper
   case; :data:`LANGUAGES`, the letters of the CLDR "main" exemplar
   characters, ``common/main/<lang>.xml``) is in the model's dictionary.

Rule 2 is why Vietnamese (``vie``) and Uzbek (``uzb``) are not offered although
RapidOCR lists ``vi`` and ``uz``: the 3.10.0 dictionary lacks 88 of the
Vietnamese precomposed letters (``ạ ả ấ`` ..., upper case counted) and Uzbek's
modifier letter turned comma (``ʻ``, U+02BB, of ``oʻ gʻ``); measured with
:func:`missing_letters` on the shipped model.
Languages whose script the model cannot write (Cyrillic, Greek with tonos,
Korean, Arabic, Devanagari ...) are not in :data:`LANGUAGES` at all, so they
are refused with ``unknown_language`` by the engine.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

#: Tesseract code -> (RapidOCR/PaddleOCR code, letters outside ``a-z`` its text needs).
#: Letters: CLDR main exemplar characters, lower case (upper case is checked too).
LANGUAGES: dict[str, tuple[str, str]] = {
    "eng": ("en", ""),
    "afr": ("af", "éèêëîïôöûü"),
    "aze": ("az", "çəğıöşü"),
    "bos": ("bs", "čćđšž"),
    "cat": ("ca", "àçèéíïòóúü"),
    "ces": ("cs", "áčďéěíňóřšťúůýž"),
    "cym": ("cy", "âêîôûŵŷ"),
    "dan": ("da", "æøå"),
    "deu": ("de", "äöüß"),
    "spa": ("es", "áéíñóúü"),
    "est": ("et", "äöõüšž"),
    "eus": ("eu", "ñ"),
    "fin": ("fi", "äö"),
    "fra": ("fr", "àâæçéèêëîïôœùûüÿ"),
    "gle": ("ga", "áéíóú"),
    "glg": ("gl", "áéíñóúü"),
    "hrv": ("hr", "čćđšž"),
    "hun": ("hu", "áéíóöőúüű"),
    "ind": ("id", ""),
    "isl": ("is", "áðéíóúýþæö"),
    "ita": ("it", "àèéìíîòóùú"),
    "kmr": ("ku", "çêîşû"),
    "lat": ("la", ""),
    "ltz": ("lb", "äéë"),
    "lit": ("lt", "ąčęėįšųūž"),
    "lav": ("lv", "āčēģīķļņšūž"),
    "mri": ("mi", "āēīōū"),
    "msa": ("ms", ""),
    "mlt": ("mt", "àèìòùċġħż"),
    "nld": ("nl", "éëïóöü"),
    "nor": ("no", "æøå"),
    "oci": ("oc", "àçèéíïòóú"),
    "pol": ("pl", "ąćęłńóśźż"),
    "por": ("pt", "àáâãçéêíóôõú"),
    "que": ("qu", "ñ"),
    "ron": ("ro", "ăâîșț"),
    "srp_latn": ("rs_latin", "čćđšž"),
    "slk": ("sk", "áäčďéíĺľňóôŕšťúýž"),
    "slv": ("sl", "čšž"),
    "sqi": ("sq", "çë"),
    "swe": ("sv", "åäö"),
    "swa": ("sw", ""),
    "tgl": ("tl", "ñ"),
    "tur": ("tr", "çğıöşü"),
    "uzb": ("uz", "ʻ"),
    "vie": ("vi", "àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"),
    # Chinese and Japanese: a sample of the most frequent characters of each script
    # (the full sets are thousands of characters; the model's are 15,565 CJK ideographs).
    "chi_sim": ("ch", "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年"),
    "chi_tra": ("chinese_cht", "的一是不了人我在有他這中大來上國個到說們為子和你地出道也時年"),
    "jpn": (
        "japan",
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよ"
        "らりるれろわをんがぎぐげござじずぜぞだでどばびぶべぼぱぴぷぺぽっゃゅょ"
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨ"
        "ラリルレロワヲンガギグゲゴザジズゼゾダデドバビブベボパピプペポッャュョー日本語",
    ),
}


def _letters(letters: str) -> set[str]:
    """``letters`` and their one-character upper-case forms (``ß`` -> ``SS`` is skipped)."""
    out = set(letters)
    out.update(u for u in (c.upper() for c in letters) if len(u) == 1)
    return out


def missing_letters(code: str, dictionary: Collection[str]) -> list[str]:
    """Letters of language ``code`` (a key of :data:`LANGUAGES`) not in ``dictionary``.

    Raises ``KeyError`` for a code not in :data:`LANGUAGES`.
    """
    return sorted(c for c in _letters(LANGUAGES[code][1]) if c not in dictionary)


def readable_languages(dictionary: Collection[str], listed: Iterable[str]) -> tuple[str, ...]:
    """Our codes (in :data:`LANGUAGES` order) the model reads: its PP-OCR code is in
    ``listed`` (RapidOCR's languages for the model) and no letter is missing from
    ``dictionary`` (the model's characters)."""
    listed = set(listed)
    return tuple(
        code
        for code, (paddle, _) in LANGUAGES.items()
        if paddle in listed and not missing_letters(code, dictionary)
    )
