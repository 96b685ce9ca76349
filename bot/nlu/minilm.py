"""Dense features from the pretrained sentence encoder all-MiniLM-L6-v2 (Apache-2.0).

`MiniLMFeaturizer` gives every message a 384-number sentence feature (the mean of the
encoder's word-piece outputs, L2-normalised, which is how the model was trained to be
used) and one 384-number feature per token (the mean of that token's word pieces), as
Rasa's `LanguageModelFeaturizer` does, for DIET and the ResponseSelectors beside the
sparse features.

Why a small component of our own rather than Rasa's `LanguageModelFeaturizer`:
- `LanguageModelFeaturizer` needs `transformers`, and transformers (and its `tokenizers`)
  require `huggingface_hub<1.0` while Rasa 3.6's environment here pins
  `huggingface_hub==2.4.0`: `pip check` would not stay clean without reshuffling pins.
  It would also load PyTorch-format weights into TensorFlow through transformers' model
  classes (hundreds of MB more in the server) and run a TF graph per message.
- it takes the [CLS] vector as the sentence feature; this model was trained with mean
  pooling, so [CLS] is not its sentence embedding.
- the encoder is six standard BERT layers: a forward pass for one message is a few matrix
  products, done here in numpy (already installed with Rasa) in about 2-4 ms. The weights
  are read with `safetensors` (already installed). Nothing new is installed.
The word-piece tokenizer is the standard BERT one (lower-case, strip accents, split off
punctuation, greedy longest match in `vocab.txt`); it is written out below because the
field's fast implementation (`tokenizers`) has the same `huggingface_hub` conflict, and
TensorFlow Text's version costs a TF op call per message. `tests/bot/test_minilm.py`
checks it against TensorFlow Text's `BertTokenizer` on the training data.

The model files are never downloaded at run time: `scripts/fetch_minilm.py` fetches them once,
hash-checked, into `.venv/models/all-MiniLM-L6-v2` (`python -m bench.featurizers` runs it).
Not in config.yml: on the ablation (README, "Dense features") it gained too little for what
it costs in time per message; `make setup` does not fetch it.
"""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(sys.prefix) / "models" / "all-MiniLM-L6-v2"
MAX_PIECES = 256  # the model's max_seq_length (sentence_bert_config.json)
MAX_WORD_CHARS = 100  # longer words become [UNK], as in BERT's WordPiece


# ---------------------------------------------------------------- tokenizer


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def basic_words(text: str) -> List[str]:
    """BERT's basic tokenizer (uncased): clean, lower-case, strip accents, split off
    punctuation and CJK characters."""
    cleaned = []
    for char in text:
        code = ord(char)
        if (
            code == 0
            or code == 0xFFFD
            or (unicodedata.category(char).startswith("C") and char not in "\t\n\r")
        ):
            continue
        if char.isspace() or unicodedata.category(char) == "Zs":
            cleaned.append(" ")
        elif _is_cjk(code):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    words: List[str] = []
    for word in "".join(cleaned).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(c for c in word if unicodedata.category(c) != "Mn")
        current = ""
        for char in word:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPiece:
    """Greedy longest-match-first word pieces over BERT's `vocab.txt`."""

    def __init__(self, vocab_path: Path) -> None:
        tokens = vocab_path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab: Dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self._cache: Dict[str, Tuple[int, ...]] = {}

    def word_ids(self, word: str) -> Tuple[int, ...]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids: List[int] = []
        if len(word) > MAX_WORD_CHARS:
            ids = [self.unk]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        found = self.vocab[piece]
                        break
                    end -= 1
                if found is None:
                    ids = [self.unk]
                    break
                ids.append(found)
                start = end
        result = tuple(ids)
        if len(self._cache) < 50_000:
            self._cache[word] = result
        return result

    def ids(self, text: str) -> List[int]:
        """Word-piece ids of a text, without [CLS]/[SEP]."""
        return [i for w in basic_words(text) for i in self.word_ids(w)]


# ---------------------------------------------------------------- encoder


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class MiniLM:
    """The BERT encoder of all-MiniLM-L6-v2 in numpy, for one sequence at a time."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        weights = load_file(str(model_dir / "model.safetensors"))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.hidden = int(config["hidden_size"])
        self.tokenizer = WordPiece(model_dir / "vocab.txt")

        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")[0]
        self.emb_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            # query, key and value in one (in, 3*out) matrix: one product instead of three
            qkv = np.concatenate(
                [w(p + f"attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1
            )
            qkv_b = np.concatenate(
                [w(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")]
            )
            self.layers.append(
                (
                    np.ascontiguousarray(qkv),
                    qkv_b,
                    np.ascontiguousarray(w(p + "attention.output.dense.weight").T),
                    w(p + "attention.output.dense.bias"),
                    (
                        w(p + "attention.output.LayerNorm.weight"),
                        w(p + "attention.output.LayerNorm.bias"),
                    ),
                    np.ascontiguousarray(w(p + "intermediate.dense.weight").T),
                    w(p + "intermediate.dense.bias"),
                    np.ascontiguousarray(w(p + "output.dense.weight").T),
                    w(p + "output.dense.bias"),
                    (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                )
            )

    def encode_batch(self, batch: Sequence[Sequence[int]]) -> List[np.ndarray]:
        """Last-layer outputs for several id sequences (each with [CLS] and [SEP]), one
        array per sequence with a row per id. Shorter sequences are padded and masked out
        of attention, so each result is what the sequence alone gives."""
        count, length = len(batch), max(len(ids) for ids in batch)
        padded = np.zeros((count, length), dtype=np.int64)
        bias = np.zeros((count, 1, 1, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            padded[row, : len(ids)] = ids
            bias[row, ..., len(ids) :] = -1e9
        x = self.word[padded] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.emb_norm, self.eps)
        heads, size = self.heads, self.hidden // self.heads
        scale = 1.0 / np.sqrt(size)
        for qkv, qkv_b, wo, bo, norm1, wi, bi, wo2, bo2, norm2 in self.layers:
            q, k, v = np.split(x @ qkv + qkv_b, 3, axis=-1)
            q = q.reshape(count, length, heads, size).transpose(0, 2, 1, 3)
            k = k.reshape(count, length, heads, size).transpose(0, 2, 3, 1)
            v = v.reshape(count, length, heads, size).transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(count, length, self.hidden)
            x = _layer_norm(x + context @ wo + bo, *norm1, self.eps)
            x = _layer_norm(x + _gelu(x @ wi + bi) @ wo2 + bo2, *norm2, self.eps)
        return [x[row, : len(ids)] for row, ids in enumerate(batch)]

    def embed(self, text: str) -> np.ndarray:
        """The sentence embedding of a text as sentence-transformers computes it
        (mean over all pieces including [CLS]/[SEP], L2-normalised)."""
        ids = [self.tokenizer.cls, *self.tokenizer.ids(text)[: MAX_PIECES - 2], self.tokenizer.sep]
        return _normalise(self.encode_batch([ids])[0].mean(0))

    def _pieces(self, tokens: Sequence[str]) -> Tuple[List[int], List[Tuple[int, int]]]:
        ids = [self.tokenizer.cls]
        spans: List[Tuple[int, int]] = []
        for token in tokens:
            room = MAX_PIECES - 1 - len(ids)
            pieces = self.tokenizer.ids(token)[: max(room, 0)]
            spans.append((len(ids), len(ids) + len(pieces)))
            ids.extend(pieces)
        ids.append(self.tokenizer.sep)
        return ids, spans

    def _pool(self, out: np.ndarray, spans: List[Tuple[int, int]]) -> Tuple[np.ndarray, np.ndarray]:
        sequence = np.zeros((len(spans), self.hidden), dtype=np.float32)
        for row, (start, end) in enumerate(spans):
            if end > start:
                sequence[row] = out[start:end].mean(0)
        return sequence, _normalise(out.mean(0))[None, :].astype(np.float32)

    def features(self, tokens: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(token features, sentence feature) for a message's tokens: each token's feature
        is the mean of its word pieces' outputs; pieces past the model's length, or tokens
        with no pieces, get zeros."""
        return self.features_many([tokens])[0]

    def features_many(
        self, messages: Sequence[Sequence[str]], batch_size: int = 32
    ) -> List[Tuple[np.ndarray, np.ndarray]]:
        """`features` for many messages, in batches of similar length (training data)."""
        prepared = [self._pieces(tokens) for tokens in messages]
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i][0]))
        results: List[Optional[Tuple[np.ndarray, np.ndarray]]] = [None] * len(prepared)
        for first in range(0, len(order), batch_size):
            chunk = order[first : first + batch_size]
            outs = self.encode_batch([prepared[i][0] for i in chunk])
            for i, out in zip(chunk, outs, strict=True):
                results[i] = self._pool(out, prepared[i][1])
        return results  # type: ignore[return-value]


def _normalise(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


@lru_cache(maxsize=2)
def load(model_dir: str) -> MiniLM:
    """One encoder per folder per process (training and serving build the component more
    than once)."""
    path = Path(model_dir)
    if not (path / "model.safetensors").exists():
        raise FileNotFoundError(
            f"all-MiniLM-L6-v2 is not in {path}: run `make setup` (scripts/fetch_minilm)"
        )
    _one_blas_thread()
    return MiniLM(path)


def _one_blas_thread() -> None:
    """One BLAS thread for the process. A message is a handful of small matrix products;
    on 2 shared cores, OpenBLAS's second thread made each one slower (measured: 138 ms
    against 54 ms per message under load). TensorFlow (DIET) has its own thread pool."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def resolve(model_dir: Optional[str]) -> Path:
    if not model_dir:
        return DEFAULT_MODEL_DIR
    path = Path(model_dir)
    if not path.is_absolute():
        from bot.settings import PROJECT_ROOT

        path = PROJECT_ROOT / path
    return path


# ---------------------------------------------------------------- Rasa component


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence and token features from all-MiniLM-L6-v2, for the message text."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_dir": None}

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.encoder = load(str(resolve(config.get("model_dir"))))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        pass

    def _featurize(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT])
        if not tokens:
            return
        sequence, sentence = self.encoder.features([t.text for t in tokens])
        self.add_features_to_message(sequence, sentence, TEXT, message)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [e for e in training_data.training_examples if e.get(TOKENS_NAMES[TEXT])]
        tokens = [[t.text for t in e.get(TOKENS_NAMES[TEXT])] for e in examples]
        for example, (sequence, sentence) in zip(
            examples, self.encoder.features_many(tokens), strict=True
        ):
            self.add_features_to_message(sequence, sentence, TEXT, example)
        return training_data
