package shared

import (
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientOptions returns the google-cloud-go client options for one API: its endpoint override (empty
// keeps Google's), and either plaintext gRPC without credentials (the sandbox), a service-account key, or
// Application Default Credentials.
func (c *GCPConfig) ClientOptions(endpoint string) []option.ClientOption {
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	switch {
	case c.Insecure:
		opts = append(opts, option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	case c.Credentials != "":
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(c.Credentials)))
	}
	return opts
}
