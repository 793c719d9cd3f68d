"""The learned melody model behind the ``transformer`` section generator.

| module | concept |
|---|---|
| ``data.py`` | corpus or a user's folder -> one ``Example`` per piece; the fixed split |
| ``windows.py`` | a piece -> training sections (4-16 bars, key-relative, role, source material) |
| ``tokens.py`` | the vocabulary: miditok REMI notes + conditioning tokens; encode/decode |
| ``model.py`` | the decoder's configuration (Llama) and loading of the shipped checkpoint |
| ``train.py`` | ``compose train``: tokenised splits, the resumable training loop, metrics |
| ``sampling.py`` | batched sampling with a KV cache: compiled step + fused draw, or step by step |
| ``weights.py`` | the weights from ``model.safetensors`` + ``config.json`` (no transformers) |
| ``decoder.py`` | ``FastDecoder``: prefill and decoding steps on those weights (same logits) |
| ``gpu.py`` | ``--device cuda``: the decoder in torch on the device, the same draw on the host |
| ``processors.py`` | grammar-safe decoding: ``LogitsProcessor``s, fused into one compiled draw |
| ``jit.py`` | the numba kernels both use: grammar, pitch rules, top-p draw, norms, attention |
| ``validate.py`` | an independent checker of generated sequences |
| ``card.py`` | the model card from the measured figures |

torch and miditok are imported only when a model is trained or sampled; transformers only when
one is trained, benchmarked or built as a ``LlamaForCausalLM`` (composing reads the weights).
"""
