// The C side of PlugConfig's TOMLDocument: toml++ parses, and its table is flattened into the
// plug_toml_node list Swift reads. No formatting, no exceptions.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#define TOML_ENABLE_WINDOWS_COMPAT 0
#if __has_include(<toml++/toml.hpp>)
#include <toml++/toml.hpp>
#else
#include <toml++/toml.h> // Debian 12's 3.3 names it so
#endif

#include <new>
#include <string>
#include <vector>

#include "toml_document.h"

namespace {

struct Owner {
    toml::table table;
    std::string error;
    std::vector<plug_toml_node> nodes;
};

void add(Owner &owner, int32_t parent, const toml::key *key, const toml::node &node) {
    plug_toml_node n{};
    n.parent = parent;
    if (key) {
        n.key = key->data();
        n.key_length = key->length();
    }
    n.line = node.source().begin.line;
    n.column = node.source().begin.column;
    switch (node.type()) {
    case toml::node_type::table: n.kind = PLUG_TOML_TABLE; break;
    case toml::node_type::array: n.kind = PLUG_TOML_ARRAY; break;
    case toml::node_type::string: {
        const std::string &s = node.as_string()->get();
        n.kind = PLUG_TOML_STRING;
        n.string = s.data();
        n.string_length = s.size();
        break;
    }
    case toml::node_type::integer: n.kind = PLUG_TOML_INTEGER; n.integer = node.as_integer()->get(); break;
    case toml::node_type::floating_point: n.kind = PLUG_TOML_FLOAT; n.floating = node.as_floating_point()->get(); break;
    case toml::node_type::boolean: n.kind = PLUG_TOML_BOOLEAN; n.boolean = node.as_boolean()->get(); break;
    case toml::node_type::date: n.kind = PLUG_TOML_DATE; break;
    case toml::node_type::time: n.kind = PLUG_TOML_TIME; break;
    default: n.kind = PLUG_TOML_DATE_TIME; break;
    }
    owner.nodes.push_back(n);
    const auto index = static_cast<int32_t>(owner.nodes.size() - 1);
    if (const toml::table *t = node.as_table()) {
        for (const auto &[k, v] : *t) add(owner, index, &k, v);
    } else if (const toml::array *a = node.as_array()) {
        for (const toml::node &v : *a) add(owner, index, nullptr, v);
    }
}

} // namespace

extern "C" plug_toml_document *plug_toml_parse(const char *text, size_t length) {
    try {
        auto *owner = new Owner;
        auto *document = new plug_toml_document{};
        document->owner = owner;
        toml::parse_result result = toml::parse(std::string_view(text, length));
        if (!result) {
            const toml::parse_error &e = result.error();
            owner->error = std::string(e.description());
            document->error = owner->error.c_str();
            document->error_line = e.source().begin.line;
            document->error_column = e.source().begin.column;
            return document;
        }
        owner->table = std::move(result).table();
        for (const auto &[k, v] : owner->table) add(*owner, -1, &k, v);
        document->nodes = owner->nodes.data();
        document->count = owner->nodes.size();
        return document;
    } catch (const std::bad_alloc &) {
        return nullptr;
    }
}

extern "C" void plug_toml_free(plug_toml_document *document) {
    if (!document) return;
    delete static_cast<Owner *>(document->owner);
    delete document;
}
