package grants

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	fgaclient "github.com/openfga/go-sdk/client"
)

// ModelJSON is the bundled authorization model, a copy of
// deploy/openfga/model.json (a test keeps both true to model.fga).
//
//go:embed model.json
var ModelJSON []byte

// WriteModel writes the bundled model to the client's store and returns its
// ID.
func WriteModel(ctx context.Context, c *fgaclient.OpenFgaClient) (string, error) {
	var body fgaclient.ClientWriteAuthorizationModelRequest
	if err := json.Unmarshal(ModelJSON, &body); err != nil {
		return "", fmt.Errorf("bundled openfga model: %w", err)
	}
	resp, err := c.WriteAuthorizationModel(ctx).Body(body).Execute()
	if err != nil {
		return "", fmt.Errorf("openfga write model: %w", err)
	}
	return resp.GetAuthorizationModelId(), nil
}
