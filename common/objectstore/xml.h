// A small, strict XML reader for object-store responses (S3 ListObjectsV2, multipart replies,
// error documents; Azure List Blobs and errors): elements, attributes ignored, text with the
// predefined and numeric entities decoded, CDATA, comments and the declaration skipped.
// Anything malformed (unclosed or mismatched tags, a bad entity, text after the root) is an
// Error(Format), so a truncated or garbled response is never half-read. Not a general XML
// parser: no DTDs, no namespaces beyond keeping prefixed names as they are.
//
// Pure values; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::objectstore {

struct XmlElement {
  std::string name;
  std::string text;  // the element's own character data, concatenated
  std::vector<XmlElement> children;

  // The first child named name, or null.
  const XmlElement* child(std::string_view name) const;
  // The text of the first child named name, or nullopt.
  std::optional<std::string> childText(std::string_view name) const;
  // Every child named name, in order.
  std::vector<const XmlElement*> all(std::string_view name) const;
};

// Parses a document and returns its root element. Throws Error(Format) naming what is wrong.
XmlElement parseXml(std::string_view document);

// Escapes &, <, >, " and ' for element text.
std::string xmlEscape(std::string_view text);

}  // namespace pgbr::objectstore
