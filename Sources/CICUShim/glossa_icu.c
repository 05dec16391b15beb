#include "glossa_icu.h"
#include <unicode/utypes.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>
#include <unicode/uloc.h>
#include <string.h>

static const UNormalizer2 *instance(int32_t form, UErrorCode *status) {
    switch (form) {
    case GLOSSA_FORM_NFC: return unorm2_getNFCInstance(status);
    case GLOSSA_FORM_NFD: return unorm2_getNFDInstance(status);
    case GLOSSA_FORM_NFKC: return unorm2_getNFKCInstance(status);
    case GLOSSA_FORM_NFKD: return unorm2_getNFKDInstance(status);
    case GLOSSA_FORM_NFKC_CASEFOLD: return unorm2_getNFKCCasefoldInstance(status);
    default: *status = U_ILLEGAL_ARGUMENT_ERROR; return NULL;
    }
}

int32_t glossa_normalize(int32_t form, const uint16_t *src, int32_t length,
                         uint16_t *dst, int32_t capacity, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *n = instance(form, &err);
    int32_t out = 0;
    if (U_SUCCESS(err)) out = unorm2_normalize(n, (const UChar *)src, length, (UChar *)dst, capacity, &err);
    *status = err;
    return out;
}

int32_t glossa_normalize_span_yes(int32_t form, const uint16_t *src, int32_t length, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *n = instance(form, &err);
    int32_t out = 0;
    if (U_SUCCESS(err)) out = unorm2_spanQuickCheckYes(n, (const UChar *)src, length, &err);
    *status = err;
    return out;
}

int32_t glossa_normalize_is_inert(int32_t form, uint32_t c) {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *n = instance(form, &err);
    return U_SUCCESS(err) ? (int32_t)unorm2_isInert(n, (UChar32)c) : 0;
}

int32_t glossa_normalize_quick_check_char(int32_t form, uint32_t c) {
    UProperty p;
    switch (form) {
    case GLOSSA_FORM_NFC: p = UCHAR_NFC_QUICK_CHECK; break;
    case GLOSSA_FORM_NFD: p = UCHAR_NFD_QUICK_CHECK; break;
    case GLOSSA_FORM_NFKC: p = UCHAR_NFKC_QUICK_CHECK; break;
    case GLOSSA_FORM_NFKD: p = UCHAR_NFKD_QUICK_CHECK; break;
    default: return 2;
    }
    return u_getIntPropertyValue((UChar32)c, p);
}

int32_t glossa_normalize_quick_check_yes(int32_t form, uint32_t c) {
    switch (form) {
    case GLOSSA_FORM_NFC: return u_getIntPropertyValue((UChar32)c, UCHAR_NFC_QUICK_CHECK) == UNORM_YES;
    case GLOSSA_FORM_NFD: return u_getIntPropertyValue((UChar32)c, UCHAR_NFD_QUICK_CHECK) == UNORM_YES;
    case GLOSSA_FORM_NFKC: return u_getIntPropertyValue((UChar32)c, UCHAR_NFKC_QUICK_CHECK) == UNORM_YES;
    case GLOSSA_FORM_NFKD: return u_getIntPropertyValue((UChar32)c, UCHAR_NFKD_QUICK_CHECK) == UNORM_YES;
    case GLOSSA_FORM_NFKC_CASEFOLD:
        return u_getIntPropertyValue((UChar32)c, UCHAR_NFKC_QUICK_CHECK) == UNORM_YES &&
               !u_hasBinaryProperty((UChar32)c, UCHAR_CHANGES_WHEN_NFKC_CASEFOLDED);
    default: return 0;
    }
}

int32_t glossa_char_type(uint32_t c) { return u_charType((UChar32)c); }
uint8_t glossa_combining_class(uint32_t c) { return u_getCombiningClass((UChar32)c); }

int32_t glossa_has_property(uint32_t c, int32_t property) {
    UProperty p;
    switch (property) {
    case GLOSSA_PROP_EXTENDED_PICTOGRAPHIC: p = UCHAR_EXTENDED_PICTOGRAPHIC; break;
    case GLOSSA_PROP_EMOJI_MODIFIER: p = UCHAR_EMOJI_MODIFIER; break;
    case GLOSSA_PROP_REGIONAL_INDICATOR: p = UCHAR_REGIONAL_INDICATOR; break;
    case GLOSSA_PROP_VARIATION_SELECTOR: p = UCHAR_VARIATION_SELECTOR; break;
    case GLOSSA_PROP_BIDI_CONTROL: p = UCHAR_BIDI_CONTROL; break;
    case GLOSSA_PROP_JOIN_CONTROL: p = UCHAR_JOIN_CONTROL; break;
    case GLOSSA_PROP_DEFAULT_IGNORABLE: p = UCHAR_DEFAULT_IGNORABLE_CODE_POINT; break;
    case GLOSSA_PROP_WHITE_SPACE: p = UCHAR_WHITE_SPACE; break;
    case GLOSSA_PROP_EMOJI_COMPONENT: p = UCHAR_EMOJI_COMPONENT; break;
    default: return 0;
    }
    return u_hasBinaryProperty((UChar32)c, p) ? 1 : 0;
}

int32_t glossa_digit_value(uint32_t c) { return u_charDigitValue((UChar32)c); }

int32_t glossa_script(uint32_t c) {
    UErrorCode err = U_ZERO_ERROR;
    UScriptCode s = uscript_getScript((UChar32)c, &err);
    return U_SUCCESS(err) ? (int32_t)s : -1;
}

int32_t glossa_script_extensions(uint32_t c, int32_t *out, int32_t capacity) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = uscript_getScriptExtensions((UChar32)c, (UScriptCode *)out, capacity, &err);
    return n;
}

const char *glossa_script_code(int32_t script) { return uscript_getShortName((UScriptCode)script); }

int32_t glossa_script_from_code(const char *code) {
    UErrorCode err = U_ZERO_ERROR;
    UScriptCode codes[4];
    int32_t n = uscript_getCode(code, codes, 4, &err);
    return (U_SUCCESS(err) && n > 0) ? (int32_t)codes[0] : -1;
}

void *glossa_break_open(int32_t kind, const char *locale, const uint16_t *text, int32_t length,
                        int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    UBreakIterator *it = ubrk_open((UBreakIteratorType)kind, locale, (const UChar *)text, length, &err);
    *status = err;
    if (U_FAILURE(err)) { if (it) ubrk_close(it); return NULL; }
    return it;
}
int32_t glossa_break_first(void *iterator) { return ubrk_first((UBreakIterator *)iterator); }
int32_t glossa_break_next(void *iterator) { return ubrk_next((UBreakIterator *)iterator); }
int32_t glossa_break_rule_status(void *iterator) { return ubrk_getRuleStatus((UBreakIterator *)iterator); }
void glossa_break_close(void *iterator) { ubrk_close((UBreakIterator *)iterator); }

int32_t glossa_to_upper(const char *locale, const uint16_t *src, int32_t length,
                        uint16_t *dst, int32_t capacity, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = u_strToUpper((UChar *)dst, capacity, (const UChar *)src, length, locale, &err);
    *status = err;
    return n;
}
int32_t glossa_to_lower(const char *locale, const uint16_t *src, int32_t length,
                        uint16_t *dst, int32_t capacity, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = u_strToLower((UChar *)dst, capacity, (const UChar *)src, length, locale, &err);
    *status = err;
    return n;
}
int32_t glossa_to_title(const char *locale, const uint16_t *src, int32_t length,
                        uint16_t *dst, int32_t capacity, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = u_strToTitle((UChar *)dst, capacity, (const UChar *)src, length, NULL, locale, &err);
    *status = err;
    return n;
}
int32_t glossa_fold_case(int32_t turkic, const uint16_t *src, int32_t length,
                         uint16_t *dst, int32_t capacity, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = u_strFoldCase((UChar *)dst, capacity, (const UChar *)src, length,
                              turkic ? U_FOLD_CASE_EXCLUDE_SPECIAL_I : U_FOLD_CASE_DEFAULT, &err);
    *status = err;
    return n;
}

void *glossa_translit_open(const char *identifier, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    UChar id[128];
    u_uastrncpy(id, identifier, 127);
    id[127] = 0;
    UTransliterator *t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &err);
    *status = err;
    if (U_FAILURE(err)) { if (t) utrans_close(t); return NULL; }
    return t;
}

int32_t glossa_translit(void *handle, uint16_t *buffer, int32_t length, int32_t capacity,
                        int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t textLength = length, limit = length;
    utrans_transUChars((UTransliterator *)handle, (UChar *)buffer, &textLength, capacity, 0, &limit, &err);
    *status = err;
    return textLength;
}

void glossa_translit_close(void *handle) { utrans_close((UTransliterator *)handle); }

int32_t glossa_locale_canonical(const char *locale, char *out, int32_t capacity, int32_t *status) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = 0;
    // A BCP-47 tag parses completely; ICU ids ("en_US@ss=standard") and odd strings do not
    // and go through uloc_canonicalize instead.
    if (strchr(locale, '_') == NULL && strchr(locale, '@') == NULL) {
        int32_t parsed = 0;
        n = uloc_forLanguageTag(locale, out, capacity, &parsed, &err);
        if (err == U_STRING_NOT_TERMINATED_WARNING) err = U_BUFFER_OVERFLOW_ERROR;
        if (err == U_BUFFER_OVERFLOW_ERROR || (U_SUCCESS(err) && parsed == (int32_t)strlen(locale))) {
            *status = err;
            return n;
        }
        err = U_ZERO_ERROR;
    }
    n = uloc_canonicalize(locale, out, capacity, &err);
    if (err == U_STRING_NOT_TERMINATED_WARNING) err = U_BUFFER_OVERFLOW_ERROR;
    *status = err;
    return n;
}

int64_t glossa_nfc_loop(const uint16_t *text, const int64_t *offsets, int32_t count,
                        uint16_t *scratch, int32_t capacity) {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *n = unorm2_getNFCInstance(&err);
    int64_t total = 0;
    for (int32_t i = 0; i < count && U_SUCCESS(err); i++) {
        total += unorm2_normalize(n, (const UChar *)text + offsets[i], (int32_t)(offsets[i + 1] - offsets[i]),
                                  (UChar *)scratch, capacity, &err);
    }
    return U_SUCCESS(err) ? total : -1;
}

const char *glossa_error_name(int32_t status) { return u_errorName((UErrorCode)status); }

void glossa_icu_version(char *buffer, int32_t capacity) {
    UVersionInfo v;
    char s[U_MAX_VERSION_STRING_LENGTH];
    u_getVersion(v);
    u_versionToString(v, s);
    strncpy(buffer, s, (size_t)capacity - 1);
    buffer[capacity - 1] = 0;
}

void glossa_unicode_version(char *buffer, int32_t capacity) {
    UVersionInfo v;
    char s[U_MAX_VERSION_STRING_LENGTH];
    u_getUnicodeVersion(v);
    u_versionToString(v, s);
    strncpy(buffer, s, (size_t)capacity - 1);
    buffer[capacity - 1] = 0;
}
