"""Language helpers shared by compression and the semantic cache guards: Korean morphology (Kiwi)
and negation / polarity cues for English and Korean. Stable API:

- ``language_of(text) -> "en" | "ko"``
- ``negations(text, lang=None) -> list[Cue]``: spans (``start``, ``end``, ``text``, ``kind``, ``lang``) of
  negations, prohibitions, restrictions and obligations (see :func:`~.polarity.negations`)
- ``polarity(text, lang=None) -> 1 | -1``: whether the text says "not" (an odd number of negations)
- ``korean.morphemes(text) -> list[Morpheme(form, tag, start, len)]``, ``korean.word_morphemes(word)``
  (cached per word), ``korean.stem(word)``

English needs nothing installed; Korean needs the ``korean`` extra (kiwipiepy, kiwipiepy-model: the
model ships in the wheel, nothing is downloaded). English words are matched by surface form with their
contractions; no lemmatizer is used (nltk's WordNet data is not shipped).

>>> from llmcost_magic.language import negations, polarity
>>> polarity("Do not turn off two-factor authentication"), polarity("Turn off two-factor authentication")
(-1, 1)
"""

from . import korean
from .korean import Morpheme, morphemes
from .polarity import KINDS, Cue, language_of, negations, polarity

__all__ = ["KINDS", "Cue", "Morpheme", "korean", "language_of", "morphemes", "negations", "polarity"]
