package hydrate

import (
	"context"
	"testing"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// A stream of another account is read with the role mapped to that account, assumed
// through STS (moto's here) and cached; every other account uses the function's own
// credentials.
func TestReadersAssumeTheAccountsRole(t *testing.T) {
	base := testkit.Config(t, testkit.Moto)
	ctx := context.Background()
	own, err := base.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::444455556666:role/streamdlq-reader"
	r := newReaders(base, map[string]string{"444455556666": role}, false)

	other := configFor(base, r.roles["444455556666"])
	first, err := other.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("assume %s: %v", role, err)
	}
	if first.AccessKeyID == own.AccessKeyID || first.SessionToken == "" || !first.CanExpire {
		t.Errorf("credentials for 444455556666 = key %s, session token %t, expiring %t; want the assumed role's temporary ones",
			first.AccessKeyID, first.SessionToken != "", first.CanExpire)
	}
	again, err := other.Credentials.Retrieve(ctx)
	if err != nil || again.AccessKeyID != first.AccessKeyID {
		t.Errorf("second retrieve = %s (%v), want the cached %s", again.AccessKeyID, err, first.AccessKeyID)
	}

	if r.forAccount("444455556666") == r.forAccount("111122223333") {
		t.Error("a mapped account shares the unmapped accounts' readers")
	}
	if r.forAccount("111122223333") != r.forAccount("777788889999") {
		t.Error("unmapped accounts do not share the function's own readers")
	}
	mapped := r.forAccount("444455556666")
	if again := r.forAccount("444455556666"); again != mapped {
		t.Error("the mapped account's readers are built again on each call, losing the credentials cache")
	}
}
