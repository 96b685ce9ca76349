"""The numpy all-MiniLM-L6-v2 encoder gives the model's published embeddings, its word pieces
are BERT's, and the fetched files are the official ones."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot.nlu import minilm
from bot.settings import PROJECT_ROOT

# sentence-transformers' embeddings of the model card's two example sentences (first values)
PUBLISHED = {
    "This is an example sentence": [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374480],
    "Each sentence is converted": [0.0864386, 0.1027627, 0.0053946, 0.0020444, -0.0099634],
}


# The encoder is not in config.yml (bench/featurizers.py: it did not win), so `make setup` does
# not fetch it; `python scripts/fetch_minilm.py` or `python -m bench.featurizers` does.
pytestmark = pytest.mark.skipif(
    not (minilm.DEFAULT_MODEL_DIR / "model.safetensors").exists(),
    reason="all-MiniLM-L6-v2 not fetched (python scripts/fetch_minilm.py)",
)


@pytest.fixture(scope="module")
def encoder() -> minilm.MiniLM:
    return minilm.load(str(minilm.DEFAULT_MODEL_DIR))


def test_fetched_files_are_the_official_ones():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fetch_minilm", PROJECT_ROOT / "scripts" / "fetch_minilm.py"
    )
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    assert fetch.complete(minilm.DEFAULT_MODEL_DIR)


@pytest.mark.parametrize("text", sorted(PUBLISHED))
def test_sentence_embedding_matches_the_published_one(encoder, text):
    vector = encoder.embed(text)
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(vector[:5], PUBLISHED[text], atol=1e-5)


def test_similar_questions_are_closer_than_unrelated_ones(encoder):
    sore = encoder.embed("how long will i be sore after kyphoplasty")
    same = encoder.embed("how many days does the soreness last")
    other = encoder.embed("who is paying the bill")
    assert sore @ same > sore @ other + 0.2


def test_features_have_one_row_per_token_and_a_sentence_row(encoder):
    tokens = ["my", "legs", "went", "numb", "kyphoplasty", "🙂"]
    sequence, sentence = encoder.features(tokens)
    assert sequence.shape == (6, 384) and sentence.shape == (1, 384)
    assert np.abs(sequence[:5]).sum(axis=1).min() > 0  # every word has pieces
    long = encoder.features(["word"] * 400)[0]  # past 256 pieces: zeros, no error
    assert long.shape == (400, 384) and not long[-1].any() and long[0].any()


def test_word_pieces_match_tensorflow_text(encoder):
    tf_text = pytest.importorskip("tensorflow_text")
    import tensorflow as tf

    reference = tf_text.BertTokenizer(
        str(minilm.DEFAULT_MODEL_DIR / "vocab.txt"), lower_case=True, token_out_type=tf.int32
    )
    texts = [m.get("text") for m in load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples]
    texts += ["Café naïve — what’s 10/10 pain?! e-mail", "PAIN!!! worse than b4 :( 😭"]
    # TensorFlow Text folds case with NFKC (full-width commas, Greek final sigma), BERT's own
    # tokenizer (this model's) only lower-cases: compare where the two foldings agree
    texts = [t for t in texts if unicodedata.normalize("NFKC", t).casefold() == t.lower()]
    assert len(texts) > 500
    expected = reference.tokenize(texts).merge_dims(-2, -1).to_list()
    mismatched = [t for t, e in zip(texts, expected, strict=True) if encoder.tokenizer.ids(t) != e]
    assert not mismatched, mismatched[:5]


def test_batched_features_equal_one_at_a_time(encoder):
    messages = [["hi"], "how long will i be sore after kyphoplasty".split(), ["numb"] * 30]
    batched = encoder.features_many(messages)
    for tokens, (sequence, sentence) in zip(messages, batched, strict=True):
        alone_sequence, alone_sentence = encoder.features(tokens)
        assert np.allclose(sequence, alone_sequence, atol=1e-4)
        assert np.allclose(sentence, alone_sentence, atol=1e-5)
