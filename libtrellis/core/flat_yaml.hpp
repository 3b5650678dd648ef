// The one reader of Trellis' flat YAML files — backend.yml and trellisctl's settings file: a mapping of
// plain keys, each to a scalar or a list of scalars, with the line it is on. The shape is checked here
// once; which keys exist and what their values may be is the caller's table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trellis {

struct FlatEntry {
    std::string key;
    int line = 0;                     // 1-based, of the key
    std::vector<std::string> values;  // one for a scalar, the items of a list, none for an empty value
    bool list = false;                // written as a YAML sequence
};

// The entries in file order; an empty file (or only comments) has none. Code::ConfigInvalid as
// "SOURCE:LINE: reason" for text that is not YAML, a top level that is not a mapping (`expected` says
// what it should look like), a key that is not a plain name, a key set twice, a mapping as a value or
// a list entry that is not a plain value.
std::vector<FlatEntry> read_flat_yaml(std::string_view text, std::string_view source, std::string_view expected);

}  // namespace trellis
