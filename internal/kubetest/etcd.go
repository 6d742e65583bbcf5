package kubetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// KV is one key and value of etcd.
type KV struct {
	Key   string
	Value []byte
}

// etcdTxnOps is etcd's default limit of operations per transaction (--max-txn-ops).
const etcdTxnOps = 128

// EtcdGet reads key from the API server's etcd, as the API server stored it.
func (s *Server) EtcdGet(ctx context.Context, key string) ([]byte, error) {
	var resp struct {
		KVs []struct {
			Value []byte `json:"value"`
		} `json:"kvs"`
	}
	if err := s.etcdCall(ctx, "/v3/kv/range", map[string]any{"key": []byte(key)}, &resp); err != nil {
		return nil, err
	}
	if len(resp.KVs) == 0 {
		return nil, fmt.Errorf("etcd has no %s", key)
	}
	return resp.KVs[0].Value, nil
}

// EtcdPut writes kvs into the API server's etcd behind its back, in transactions of etcd's
// largest size. For benchmarks that need more objects than the API server creates in the time
// (each Service's ClusterIP allocation lists every IPAddress: 100,000 Services took hours): the
// API server's watch cache sees them as created. The values must be what the API server
// itself stores (its storage encoding, no resourceVersion).
func (s *Server) EtcdPut(ctx context.Context, kvs []KV) error {
	for len(kvs) > 0 {
		n := min(len(kvs), etcdTxnOps)
		ops := make([]map[string]any, n)
		for i, kv := range kvs[:n] {
			ops[i] = map[string]any{"requestPut": map[string]any{"key": []byte(kv.Key), "value": kv.Value}}
		}
		var resp struct {
			Succeeded bool `json:"succeeded"`
		}
		if err := s.etcdCall(ctx, "/v3/kv/txn", map[string]any{"success": ops}, &resp); err != nil {
			return err
		}
		if !resp.Succeeded {
			return fmt.Errorf("etcd refused a transaction of %d puts", n)
		}
		kvs = kvs[n:]
	}
	return nil
}

// etcdCall posts req to etcd's JSON gateway (bytes as base64, as the gateway wants them) and
// decodes its answer into resp.
func (s *Server) etcdCall(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req) // []byte fields marshal as base64
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.etcdURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	res, err := s.etcdHTTP.Do(r)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %.300s", path, res.Status, out)
	}
	if err := json.Unmarshal(out, resp); err != nil {
		return fmt.Errorf("etcd %s: %w: %.300s", path, err, out)
	}
	return nil
}
