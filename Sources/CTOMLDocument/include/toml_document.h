// A TOML document parsed by toml++ (Debian's libtomlplusplus-dev, compiled in header-only),
// handed to Swift as a flat list of values: the C side of PlugConfig's TOMLDocument.
#ifndef PLUG_TOML_DOCUMENT_H
#define PLUG_TOML_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum plug_toml_kind {
    PLUG_TOML_TABLE,
    PLUG_TOML_ARRAY,
    PLUG_TOML_STRING,
    PLUG_TOML_INTEGER,
    PLUG_TOML_FLOAT,
    PLUG_TOML_BOOLEAN,
    PLUG_TOML_DATE,
    PLUG_TOML_TIME,
    PLUG_TOML_DATE_TIME,
} plug_toml_kind;

/// One value, in document order: a table or array comes before what it holds.
typedef struct plug_toml_node {
    /// The index of the table or array that holds it; -1 for the values of the root table.
    int32_t parent;
    plug_toml_kind kind;
    /// Its key in a table; NULL in an array.
    const char *key;
    size_t key_length;
    /// PLUG_TOML_STRING's text (UTF-8, may hold NULs).
    const char *string;
    size_t string_length;
    int64_t integer;
    double floating;
    bool boolean;
    /// Where it starts in the text, from 1.
    uint32_t line, column;
} plug_toml_node;

typedef struct plug_toml_document {
    /// The values; NULL on a syntax error (then `error` says what and where).
    const plug_toml_node *nodes;
    size_t count;
    /// toml++'s description of a syntax error, NUL-terminated; NULL when the text parsed.
    const char *error;
    uint32_t error_line, error_column;
    /// What the pointers above point into (toml++'s parsed table).
    void *owner;
} plug_toml_document;

/// Parses `length` bytes of `text`. Returns NULL only when memory ran out. Free with
/// plug_toml_free.
plug_toml_document *plug_toml_parse(const char *text, size_t length);
void plug_toml_free(plug_toml_document *document);

#ifdef __cplusplus
}
#endif

#endif
