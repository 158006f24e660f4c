package sim

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

//go:embed scenarios/*.sim
var builtin embed.FS

// Scenarios returns the built-in scenarios of sim/scenarios, by name.
func Scenarios() ([]*Scenario, error) {
	entries, err := builtin.ReadDir("scenarios")
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range entries {
		data, err := builtin.ReadFile(path.Join("scenarios", e.Name()))
		if err != nil {
			return nil, err
		}
		sc, err := ParseScenario(strings.TrimSuffix(e.Name(), ".sim"), bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// BuiltinScenario returns the built-in scenario called name.
func BuiltinScenario(name string) (*Scenario, error) {
	all, err := Scenarios()
	if err != nil {
		return nil, err
	}
	for _, sc := range all {
		if sc.Name == name {
			return sc, nil
		}
	}
	return nil, fmt.Errorf("sim: no built-in scenario %q", name)
}
