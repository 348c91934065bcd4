package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// awxTokens lists the ids of a user's live tokens, through AWX's own API.
func awxTokens(ctx context.Context, url, user, password string) ([]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v2/tokens/?page_size=200", nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing %s's tokens: status %d", user, resp.StatusCode)
	}
	var page struct {
		Results []struct {
			ID int64 `json:"id"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, err
	}
	ids := make([]int64, len(page.Results))
	for i, r := range page.Results {
		ids[i] = r.ID
	}
	return ids, nil
}

// liveTokens lists one of awxUsers' live tokens.
func (e *environment) liveTokens(ctx context.Context, user string) ([]int64, error) {
	return awxTokens(ctx, e.awxURL(), user, user+"-password")
}

// awxRequest is a line of the AWX test server's request log.
type awxRequest struct {
	at     time.Time
	method string
	path   string
	status string
}

// awxRequests reads the AWX test server's request log.
func (e *environment) awxRequests() ([]awxRequest, error) {
	f, err := os.Open(filepath.Join(e.awxLogDir, "awx.log"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []awxRequest
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "<time> awx: <METHOD> <path> -> <status> (<duration>)"
		fields := strings.Fields(sc.Text())
		if len(fields) != 7 || fields[1] != "awx:" || fields[4] != "->" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, fields[0])
		if err != nil {
			continue
		}
		out = append(out, awxRequest{at: at, method: fields[2], path: fields[3], status: fields[5]})
	}
	return out, sc.Err()
}

// revokedAt is when the AWX test server deleted token id; zero if it has not.
func (e *environment) revokedAt(id int64) (time.Time, error) {
	reqs, err := e.awxRequests()
	if err != nil {
		return time.Time{}, err
	}
	path := fmt.Sprintf("/api/v2/tokens/%d/", id)
	for _, r := range reqs {
		if r.method == http.MethodDelete && r.path == path && r.status == "204" {
			return r.at, nil
		}
	}
	return time.Time{}, nil
}
