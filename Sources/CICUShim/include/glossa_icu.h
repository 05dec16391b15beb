// Stable, stdint-only entry points into the system ICU.
//
// ICU versions its symbol names with macros Swift cannot see, and its C types clash with the
// copy of ICU inside Swift Foundation; these wrappers keep both problems on the C side.
// UTF-16 buffers are uint16_t, status is ICU's UErrorCode as int32_t (> 0 means failure).
#ifndef GLOSSA_ICU_H
#define GLOSSA_ICU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Normalization forms.
enum {
    GLOSSA_FORM_NFC = 0,
    GLOSSA_FORM_NFD = 1,
    GLOSSA_FORM_NFKC = 2,
    GLOSSA_FORM_NFKD = 3,
    GLOSSA_FORM_NFKC_CASEFOLD = 4,
};

/// Normalizes src into dst; returns the length needed (may exceed cap: then status is
/// U_BUFFER_OVERFLOW_ERROR = 15 and the caller retries with a bigger buffer).
int32_t glossa_normalize(int32_t form, const uint16_t *src, int32_t length,
                         uint16_t *dst, int32_t capacity, int32_t *status);
/// Length of the prefix of src that is certainly already in the form.
int32_t glossa_normalize_span_yes(int32_t form, const uint16_t *src, int32_t length, int32_t *status);
/// 1 if c never interacts with its neighbours under the form (ICU's "inert").
int32_t glossa_normalize_is_inert(int32_t form, uint32_t c);
/// 1 if c has quick-check "yes" for the form (for NFKC_Casefold: NFKC "yes" and not changed
/// by the case-fold mapping). A string of such code points in canonical order is in the form.
int32_t glossa_normalize_quick_check_yes(int32_t form, uint32_t c);
/// Quick-check value of one code point: 0 no, 1 yes, 2 maybe.
int32_t glossa_normalize_quick_check_char(int32_t form, uint32_t c);

// Character properties.
int32_t glossa_char_type(uint32_t c);          // UCharCategory
uint8_t glossa_combining_class(uint32_t c);
enum {
    GLOSSA_PROP_EXTENDED_PICTOGRAPHIC = 0,
    GLOSSA_PROP_EMOJI_MODIFIER = 1,
    GLOSSA_PROP_REGIONAL_INDICATOR = 2,
    GLOSSA_PROP_VARIATION_SELECTOR = 3,
    GLOSSA_PROP_BIDI_CONTROL = 4,
    GLOSSA_PROP_JOIN_CONTROL = 5,
    GLOSSA_PROP_DEFAULT_IGNORABLE = 6,
    GLOSSA_PROP_WHITE_SPACE = 7,
    GLOSSA_PROP_EMOJI_COMPONENT = 8,
};
int32_t glossa_has_property(uint32_t c, int32_t property);
/// Numeric value of a decimal digit (Nd), or -1.
int32_t glossa_digit_value(uint32_t c);

// Scripts (UScriptCode values).
int32_t glossa_script(uint32_t c);
/// Script_Extensions of c into out (at most capacity); returns the count (or needed count).
int32_t glossa_script_extensions(uint32_t c, int32_t *out, int32_t capacity);
/// ISO 15924 code ("Latn") of a UScriptCode, or NULL.
const char *glossa_script_code(int32_t script);
/// UScriptCode for an ISO 15924 code or script name, or -1.
int32_t glossa_script_from_code(const char *code);

// Break iteration. kind: 0 character, 1 word, 2 line, 3 sentence.
void *glossa_break_open(int32_t kind, const char *locale, const uint16_t *text, int32_t length,
                        int32_t *status);
int32_t glossa_break_first(void *iterator);
int32_t glossa_break_next(void *iterator);      // -1 when done
int32_t glossa_break_rule_status(void *iterator);
void glossa_break_close(void *iterator);

// Case mapping. Returns the needed length; status 15 means "retry with more room".
int32_t glossa_to_upper(const char *locale, const uint16_t *src, int32_t length,
                        uint16_t *dst, int32_t capacity, int32_t *status);
int32_t glossa_to_lower(const char *locale, const uint16_t *src, int32_t length,
                        uint16_t *dst, int32_t capacity, int32_t *status);
int32_t glossa_to_title(const char *locale, const uint16_t *src, int32_t length,
                        uint16_t *dst, int32_t capacity, int32_t *status);
/// turkic != 0 folds I/İ the Turkish and Azerbaijani way.
int32_t glossa_fold_case(int32_t turkic, const uint16_t *src, int32_t length,
                         uint16_t *dst, int32_t capacity, int32_t *status);

// Transliteration (used for Hans/Hant discrimination). Not thread-safe per handle.
void *glossa_translit_open(const char *identifier, int32_t *status);
/// Transliterates buffer in place; returns the new length (needed length on overflow).
int32_t glossa_translit(void *handle, uint16_t *buffer, int32_t length, int32_t capacity,
                        int32_t *status);
void glossa_translit_close(void *handle);

// Locales.
/// ICU locale id ("zh_Hant_TW", "en@ss=standard") for a BCP-47 tag or ICU id, written to out
/// (NUL-terminated); returns its length. Status as elsewhere; unknown subtags are kept.
int32_t glossa_locale_canonical(const char *locale, char *out, int32_t capacity, int32_t *status);

/// Benchmark baseline: NFC of `count` texts laid end to end in `text` (offsets has count + 1
/// entries) into `scratch`, one unorm2_normalize call per text. Returns total output units.
int64_t glossa_nfc_loop(const uint16_t *text, const int64_t *offsets, int32_t count,
                        uint16_t *scratch, int32_t capacity);

const char *glossa_error_name(int32_t status);
/// "72.1" etc.
void glossa_icu_version(char *buffer, int32_t capacity);
/// Unicode version of the ICU data ("15.0").
void glossa_unicode_version(char *buffer, int32_t capacity);

#ifdef __cplusplus
}
#endif
#endif
