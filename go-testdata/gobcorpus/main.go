// Command gobcorpus checks gob compatibility with the Rust side, in both directions.
//
//	gobcorpus encode DIR   writes DIR/<case>.go.gob: one gob stream per case, Go's encoder
//	gobcorpus decode DIR   reads DIR/<case>.rust.gob (written by the Rust encoder) into the Go
//	                       type of the case and compares with the expected value
//
// The cases cover what net/rpc plugins exchange: every basic kind, slices, arrays, maps, nested
// structs with pointers, and interface values (nil, string, int, []uint8, a registered struct).
package main

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
)

// Inner is nested inside Outer and also travels inside an interface.
type Inner struct {
	Name  string
	Count int
}

// Outer has a field of every kind.
type Outer struct {
	Flag    bool
	Neg     int
	Big     uint64
	Ratio   float64
	Text    string
	Raw     []byte
	Numbers []int
	Words   []string
	Triple  [3]int
	Counts  map[string]int
	Nested  Inner
	Pointer *Inner
	Any     interface{}
	None    interface{}
}

func cases() map[string]interface{} {
	return map[string]interface{}{
		"bool":    true,
		"int":     -123456789,
		"uint":    uint64(1) << 40,
		"float":   17.25,
		"string":  "héllo, gob",
		"bytes":   []byte{0, 1, 2, 255},
		"ints":    []int{1, -2, 300},
		"strings": []string{"a", "", "c"},
		"map":     map[string]int{"one": 1, "two": 2},
		"anymap": map[string]interface{}{
			"key":   "k",
			"value": []byte("v"),
			"n":     42,
		},
		"outer": Outer{
			Flag: true, Neg: -7, Big: 1 << 63, Ratio: -0.5, Text: "t", Raw: []byte("raw"),
			Numbers: []int{3, 2, 1}, Words: []string{"x", "y"}, Triple: [3]int{7, 8, 9},
			Counts: map[string]int{"a": 1}, Nested: Inner{"in", 2}, Pointer: &Inner{"ptr", 3},
			Any: Inner{"any", 4},
		},
	}
}

func main() {
	gob.Register(Inner{})
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gobcorpus encode|decode DIR")
		os.Exit(2)
	}
	dir := os.Args[2]
	failed := false
	for name, value := range cases() {
		var err error
		switch os.Args[1] {
		case "encode":
			err = encode(filepath.Join(dir, name+".go.gob"), value)
		case "decode":
			err = decode(filepath.Join(dir, name+".rust.gob"), value)
		default:
			err = fmt.Errorf("unknown command %q", os.Args[1])
		}
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", name, err)
			failed = true
		} else {
			fmt.Printf("ok %s\n", name)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func encode(path string, value interface{}) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(value); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func decode(path string, want interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	got := reflect.New(reflect.TypeOf(want))
	if err := gob.NewDecoder(bytes.NewReader(data)).DecodeValue(got); err != nil {
		return err
	}
	if !reflect.DeepEqual(got.Elem().Interface(), want) {
		return fmt.Errorf("got %#v, want %#v", got.Elem().Interface(), want)
	}
	return nil
}
