package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// FieldError is an input error at one place of a profile, named by its
// JSON path ("syscalls[3].args[1].index").
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string {
	path := e.Path
	if path == "" {
		path = "profile"
	}
	return path + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// SyntaxError is malformed JSON, with the line and column (1-based, in
// bytes) where the parser stopped.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// parseTree reads one JSON value into maps, slices, strings, bools and
// json.Number literals, so that no number is rounded and every type can
// be checked with its path. Encoding/json's own nesting limit applies.
func parseTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxError(data, err)
	}
	// Like json.Unmarshal, and so like Docker, refuse anything after the
	// value; only white space may follow.
	off := int(dec.InputOffset())
	rest := bytes.TrimLeft(data[off:], " \t\r\n")
	if len(rest) > 0 {
		return nil, at(data, len(data)-len(rest), "unexpected data after the top-level value")
	}
	return v, nil
}

func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off := max(int(se.Offset)-1, 0)
		return at(data, off, se.Error())
	case errors.Is(err, io.EOF) && len(bytes.TrimSpace(data)) == 0:
		return errors.New("empty input")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return at(data, len(data), "unexpected end of input")
	}
	return err
}

// at builds a SyntaxError for byte offset off of data.
func at(data []byte, off int, msg string) error {
	off = min(off, len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off + 1 - (bytes.LastIndexByte(data[:off], '\n') + 1)
	return &SyntaxError{Line: line, Column: col, Msg: msg}
}

// walker collects errors and warnings while reading a tree.
type walker struct {
	errs  []error
	warns []string
}

func (w *walker) fail(path, format string, args ...any) {
	w.errs = append(w.errs, &FieldError{Path: path, Err: fmt.Errorf(format, args...)})
}

func (w *walker) warn(path, format string, args ...any) {
	if path == "" {
		path = "profile"
	}
	w.warns = append(w.warns, path+": "+fmt.Sprintf(format, args...))
}

// object is a JSON object being read; it remembers which keys were used.
type object struct {
	m    map[string]any
	path string
	used map[string]bool
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// asObject reads v as an object; null counts as absent.
func (w *walker) asObject(v any, path string) (*object, bool) {
	if v == nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "expected an object, got %s", kind(v))
		return nil, false
	}
	return &object{m: m, path: path, used: map[string]bool{}}, true
}

// get returns the value of key. As encoding/json does for Docker, a key
// that differs only in case also matches; an exact match is preferred.
func (o *object) get(w *walker, key string) (any, string, bool) {
	if v, ok := o.m[key]; ok {
		o.used[key] = true
		return v, join(o.path, key), v != nil
	}
	for _, k := range sortedKeys(o.m) {
		if strings.EqualFold(k, key) {
			o.used[k] = true
			w.warn(join(o.path, k), "read as %q", key)
			return o.m[k], join(o.path, k), o.m[k] != nil
		}
	}
	return nil, join(o.path, key), false
}

// finish warns about every key nothing read: Docker ignores them too.
func (o *object) finish(w *walker) {
	for _, k := range sortedKeys(o.m) {
		if !o.used[k] {
			w.warn(join(o.path, k), "unknown key ignored")
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (w *walker) asString(v any, path string) (string, bool) {
	s, ok := v.(string)
	if !ok && v != nil {
		w.fail(path, "expected a string, got %s", kind(v))
	}
	return s, ok
}

// asArray reads v as an array; null counts as absent.
func (w *walker) asArray(v any, path string) ([]any, bool) {
	if v == nil {
		return nil, false
	}
	a, ok := v.([]any)
	if !ok {
		w.fail(path, "expected an array, got %s", kind(v))
	}
	return a, ok
}

// eachString calls f for every string of an array of strings and
// reports the elements that are not strings.
func (w *walker) eachString(v any, path string, f func(i int, s, path string)) {
	a, _ := w.asArray(v, path)
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			w.fail(index(path, i), "expected a string, got %s", kind(e))
			continue
		}
		f(i, s, index(path, i))
	}
}

// asUint reads a non-negative integer that fits in 64 bits, exactly.
func (w *walker) asUint(v any, path string) (uint64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		if v != nil {
			w.fail(path, "expected a number, got %s", kind(v))
		}
		return 0, false
	}
	lit := string(n)
	u, err := strconv.ParseUint(lit, 10, 64)
	switch {
	case err == nil:
		return u, true
	case strings.HasPrefix(lit, "-"):
		w.fail(path, "must not be negative, got %s", lit)
	case strings.ContainsAny(lit, ".eE"):
		w.fail(path, "must be an integer, got %s", lit)
	default:
		w.fail(path, "must fit in 64 bits, got %s", lit)
	}
	return 0, false
}
