/* Tokenizers of GGUF models, matching llama.cpp token for token:
 * SentencePiece-style ("llama": scores, byte fallback, space prefix) and
 * byte-level BPE ("gpt2": merges, pre-tokenizer from tokenizer.ggml.pre).
 * A loaded tokenizer is immutable: any number of threads may use it. */
#ifndef HEARTH_TOKENIZER_H
#define HEARTH_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model/gguf.h"
#include "tokenizer/unicode.h"

typedef struct hearth_tokenizer hearth_tokenizer;

/* Builds the tokenizer from the tokenizer.ggml.* metadata, validating all of
 * it (array types and lengths, ids in range, unique token texts, merges of
 * the form "left right", byte tokens of the form <0xNN>). The tokenizer
 * copies what it needs: g may be freed afterwards. */
hearth_status tokenizer_load(hearth_tokenizer **out, const gguf_file *g, hearth_error *err);
void tokenizer_free(hearth_tokenizer *t);

/* Tokenizes len bytes of text (any bytes: invalid UTF-8 is handled as
 * llama.cpp does) into ids, without BOS/EOS. User-defined tokens are always
 * matched in the text first; with parse_special, control tokens too (longest
 * first, as llama.cpp's parse_special=true). *out is malloc'ed (NULL when
 * *n_out is 0); the caller frees it. */
hearth_status tokenizer_encode(const hearth_tokenizer *t, const char *text, size_t len, bool parse_special,
                               int32_t **out, size_t *n_out, hearth_error *err);
/* The same, but no special token is matched where protect[i] is non-zero
 * (protect: len bytes, or NULL): a special token's text splits out only
 * where all its bytes are unprotected. Chat passes the chat template's
 * provenance (hearth_template_render_marked), so that text from a request
 * can never become special tokens while the template's own markup does. */
hearth_status tokenizer_encode_protected(const hearth_tokenizer *t, const char *text, size_t len, bool parse_special,
                                         const uint8_t *protect, int32_t **out, size_t *n_out, hearth_error *err);

int32_t tokenizer_vocab_size(const hearth_tokenizer *t);
int32_t tokenizer_bos(const hearth_tokenizer *t); /* -1 if none */
int32_t tokenizer_eos(const hearth_tokenizer *t); /* -1 if none */
/* tokenizer.ggml.add_bos_token, else llama.cpp's default (SPM and Llama-3 style BPE: true). */
bool tokenizer_add_bos(const hearth_tokenizer *t);
/* End of generation: EOS, EOT, EOM and the tokens llama.cpp recognizes by
 * their text (<|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>, ...). */
bool tokenizer_is_eog(const hearth_tokenizer *t, int32_t id);
/* True for control (and unknown) tokens, which tokenizer_piece hides unless show_special. */
bool tokenizer_is_control(const hearth_tokenizer *t, int32_t id);

/* The bytes one token stands for in output text, as llama.cpp's
 * token_to_piece: SPM "▁" becomes a space and <0xNN> its byte; byte-level BPE
 * maps its characters back to bytes. Control and unknown tokens give ""
 * unless show_special (then their text). A piece may be part of a UTF-8
 * character: feed pieces through a utf8_stream (unicode.h) for display.
 * Writes at most cap bytes (no NUL) and returns the number written; a piece
 * longer than cap is truncated (tokenizer_max_piece_len bounds every piece). */
size_t tokenizer_piece(const hearth_tokenizer *t, int32_t id, bool show_special, char *buf, size_t cap);
size_t tokenizer_max_piece_len(const hearth_tokenizer *t);

/* Detokenization as Hugging Face's decode (clean_up_tokenization_spaces
 * off): the pieces of the ids concatenated, and for SentencePiece
 * vocabularies with a space prefix (llama2 style, HF's Strip decoder) the one
 * leading space of the whole text removed. Control tokens are skipped unless
 * show_special. A tokenizer_decoder does the same one token at a time: the
 * bytes of all its pushes and the flush equal tokenizer_decode's output for
 * valid UTF-8 (and in general are that output with each invalid sequence
 * replaced by U+FFFD, as utf8_stream does). */
typedef struct {
    const hearth_tokenizer *t;
    utf8_stream u;
    bool show_special, strip_space, started;
} tokenizer_decoder;

void tokenizer_decoder_init(tokenizer_decoder *d, const hearth_tokenizer *t, bool show_special);
/* Writes the complete UTF-8 characters now available to out; returns how
 * many bytes. cap >= UTF8_STREAM_OUT_MAX(tokenizer_max_piece_len(t)) never
 * drops output. */
size_t tokenizer_decoder_push(tokenizer_decoder *d, int32_t id, char *out, size_t cap);
size_t tokenizer_decoder_flush(tokenizer_decoder *d, char *out, size_t cap);
/* The text continues earlier text (a raw completion of a prompt): its
 * leading space is kept. */
void tokenizer_decoder_continue(tokenizer_decoder *d);
/* Whole-sequence decode into a malloc'ed buffer (raw bytes, not made valid
 * UTF-8; NUL-terminated, the NUL not counted in *len). */
hearth_status tokenizer_decode(const hearth_tokenizer *t, const int32_t *ids, size_t n, bool show_special,
                               char **out, size_t *len, hearth_error *err);

/* The token's text in the vocabulary (NUL-terminated), "" for a bad id. */
const char *tokenizer_token_text(const hearth_tokenizer *t, int32_t id);

const char *tokenizer_model_name(const hearth_tokenizer *t); /* "llama" or "gpt2" */
/* tokenizer.ggml.pre as stored in the file ("" when absent). */
const char *tokenizer_pre_name(const hearth_tokenizer *t);
/* Warnings from loading (e.g. an unknown pre-tokenizer replaced by the
 * default), one per line; "" when none. */
const char *tokenizer_warnings(const hearth_tokenizer *t);

#endif
