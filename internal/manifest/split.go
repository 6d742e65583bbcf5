package manifest

import "bytes"

// documents splits a stream at YAML document markers: lines that start with "---" followed by
// nothing, a space or a tab. Whatever follows the marker on its line belongs to the new
// document, as in YAML. The returned documents share data's memory.
//
// Documents are numbered as YAML numbers them: what precedes the first marker is a document
// only if it holds more than comments, and every marker starts a document, even an empty one.
// A JSON stream has no marker and is one document.
func documents(data []byte) [][]byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	var docs [][]byte
	start := 0
	for lineStart := 0; lineStart < len(data); {
		lineEnd := len(data)
		if i := bytes.IndexByte(data[lineStart:], '\n'); i >= 0 {
			lineEnd = lineStart + i + 1
		}
		if isMarker(data[lineStart:lineEnd]) {
			if doc := data[start:lineStart]; start > 0 || !blank(doc) {
				docs = append(docs, doc)
			}
			start = lineStart + len("---")
			if blank(data[start:lineEnd]) {
				// Leave the marker's line out: YAML refuses a tab there once it
				// starts a document.
				start = lineEnd
			}
		}
		lineStart = lineEnd
	}
	if doc := data[start:]; start > 0 || !blank(doc) {
		docs = append(docs, doc)
	}
	return docs
}

func isMarker(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	if len(line) == 3 {
		return true
	}
	switch line[3] {
	case ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// blank reports whether a document holds nothing but white space and comments.
func blank(doc []byte) bool {
	for len(doc) > 0 {
		line := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			line, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}
