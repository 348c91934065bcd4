package devicehive

import (
	"errors"
	"slices"
	"testing"
)

func validRights() Rights {
	return Rights{UserID: 2, Actions: []string{"GetDevice", "GetNetwork"}, NetworkIDs: []string{"1", "3"}, DeviceTypeIDs: []string{"*"}}
}

func TestRights_Validate(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*Rights)
		wantField string
	}{
		{"valid", func(*Rights) {}, ""},
		{"all actions valid", func(r *Rights) { r.Actions = ActionNames() }, ""},
		{"user id zero", func(r *Rights) { r.UserID = 0 }, "userId"},
		{"user id negative", func(r *Rights) { r.UserID = -1 }, "userId"},
		{"nil actions", func(r *Rights) { r.Actions = nil }, "actions"},
		{"empty actions", func(r *Rights) { r.Actions = []string{} }, "actions"},
		{"unknown action", func(r *Rights) { r.Actions = []string{"GetDevice", "Fly"} }, "actions"},
		{"wrong case", func(r *Rights) { r.Actions = []string{"getdevice"} }, "actions"},
		{"repeated action", func(r *Rights) { r.Actions = []string{"GetDevice", "GetDevice"} }, "actions"},
		{"star action", func(r *Rights) { r.Actions = []string{"*"} }, "actions"},
		{"empty action name", func(r *Rights) { r.Actions = []string{""} }, "actions"},
		{"nil networks", func(r *Rights) { r.NetworkIDs = nil }, "networkIds"},
		{"empty device types", func(r *Rights) { r.DeviceTypeIDs = []string{} }, "deviceTypeIds"},
		{"non-numeric network", func(r *Rights) { r.NetworkIDs = []string{"net-1"} }, "networkIds"},
		{"negative network", func(r *Rights) { r.NetworkIDs = []string{"-1"} }, "networkIds"},
		{"empty network id", func(r *Rights) { r.NetworkIDs = []string{""} }, "networkIds"},
		{"network beyond a long", func(r *Rights) { r.NetworkIDs = []string{"99999999999999999999"} }, "networkIds"},
		{"star mixed with ids", func(r *Rights) { r.NetworkIDs = []string{"*", "1"} }, "networkIds"},
		{"star mixed in device types", func(r *Rights) { r.DeviceTypeIDs = []string{"2", "*"} }, "deviceTypeIds"},
		{"repeated network", func(r *Rights) { r.NetworkIDs = []string{"1", "1"} }, "networkIds"},
		{"star twice", func(r *Rights) { r.DeviceTypeIDs = []string{"*", "*"} }, "deviceTypeIds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRights()
			tt.mutate(&r)
			err := r.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var re *RightsError
			if !errors.As(err, &re) || re.Field != tt.wantField {
				t.Fatalf("Validate = %v; want a *RightsError on %s", err, tt.wantField)
			}
		})
	}
}

func Test_actionTable(t *testing.T) {
	names := ActionNames()
	if len(names) != 17 || names[0] != "GetNetwork" || names[16] != "ManageDeviceType" {
		t.Fatalf("ActionNames = %v", names)
	}
	var ids []int
	for _, name := range names {
		id, ok := ActionID(name)
		if !ok {
			t.Fatalf("ActionID(%q) unknown", name)
		}
		if back, _ := ActionName(id); back != name {
			t.Fatalf("ActionName(%d) = %q, want %q", id, back, name)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) || ids[0] != 2 || ids[16] != MaxActionID {
		t.Fatalf("ids = %v, want 2..18 ascending", ids)
	}
	for _, name := range []string{"*", "getdevice", "GETDEVICE", ""} {
		if _, ok := ActionID(name); ok {
			t.Fatalf("ActionID(%q) accepted", name)
		}
	}
	if id, _ := ActionID("ManageToken"); id != ManageTokenActionID {
		t.Fatalf("ManageToken = %d", id)
	}
	var admin []string
	for _, name := range names {
		if IsAdminAction(name) {
			admin = append(admin, name)
		}
	}
	if !slices.Equal(admin, []string{"ManageUser", "ManageConfiguration", "ManageNetwork", "ManageDeviceType"}) {
		t.Fatalf("admin actions = %v", admin)
	}
}
