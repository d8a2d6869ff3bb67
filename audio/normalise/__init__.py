"""Vietnamese text normalisation for speech: commune rules first, then g2p-hamster."""

from audio.normalise import lexicon
from audio.normalise.normaliser import TextNormaliser
from audio.normalise.vocabulary import Vocabulary, load_default_vocabulary

__all__ = ["TextNormaliser", "Vocabulary", "lexicon", "load_default_vocabulary"]
