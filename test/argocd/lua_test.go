package argocd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// customizations is where the health scripts live, in Argo CD's layout:
// <group>/<Kind>/health.lua beside its health_test.yaml and testdata.
var customizations = filepath.Join("..", "..", "config", "argocd", "resource_customizations")

// kinds are the kinds that must have a health script.
var kinds = []string{"PersonalToken", "DeviceAccessToken", "TokenIssuer", "ClusterTokenIssuer"}

// kindDir is the directory of kind's script.
func kindDir(kind string) string {
	return filepath.Join(customizations, tokensv1alpha1.GroupVersion.Group, kind)
}

// health is what a health script returns.
type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// scriptTimeout bounds a script's run, as Argo CD bounds it.
const scriptTimeout = time.Second

// runHealth runs kind's health.lua on obj in the sandbox Argo CD gives the
// scripts of argocd-cm: the base, table and package libraries only (no string,
// math or os), obj as the global of that name, and a table returned.
func runHealth(kind string, obj map[string]any) (health, error) {
	script, err := os.ReadFile(filepath.Join(kindDir(kind), "health.lua"))
	if err != nil {
		return health{}, err
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		l.Push(l.NewFunction(open))
		l.Push(lua.LString(name))
		l.Call(1, 0)
	}
	runCtx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	l.SetContext(runCtx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(string(script)); err != nil {
		return health{}, err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	return health{Status: luaString(table.RawGetString("status")), Message: luaString(table.RawGetString("message"))}, nil
}

// luaString is a string field of a returned table; empty when it is not a string.
func luaString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return ""
}

// toLua turns an object decoded from JSON or YAML (numbers as int64 from the API
// server, float64 from a fixture) into Lua values, as Argo CD hands it to a script.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LNil
}
