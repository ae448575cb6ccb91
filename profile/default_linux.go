package profile

import (
	"encoding/json"

	"github.com/moby/profiles/seccomp"
)

// mobyDefaultJSON is moby's default profile in Docker's JSON form.
func mobyDefaultJSON() ([]byte, error) { return json.Marshal(seccomp.DefaultProfile()) }
