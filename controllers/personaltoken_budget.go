package controllers

import (
	"context"

	"github.com/tokenoperator/token-operator/internal/awx"
)

// budgetedAWX makes each call to AWX take room with its issuer (RemoteBudget)
// for as long as it is in flight, and no longer: the reconcile's API writes
// in between hold no room.
type budgetedAWX struct {
	api  awxTokenAPI
	take func(ctx context.Context) (release func(), err error)
}

func (b budgetedAWX) Me(ctx context.Context) (awx.User, error) {
	return budgeted(ctx, b.take, func() (awx.User, error) { return b.api.Me(ctx) })
}

func (b budgetedAWX) CreateToken(ctx context.Context, req awx.CreateRequest) (awx.CreatedToken, error) {
	return budgeted(ctx, b.take, func() (awx.CreatedToken, error) { return b.api.CreateToken(ctx, req) })
}

func (b budgetedAWX) UpdateToken(ctx context.Context, id int64, upd awx.Update) (awx.Token, error) {
	return budgeted(ctx, b.take, func() (awx.Token, error) { return b.api.UpdateToken(ctx, id, upd) })
}

func (b budgetedAWX) DeleteToken(ctx context.Context, id int64) error {
	_, err := budgeted(ctx, b.take, func() (struct{}, error) { return struct{}{}, b.api.DeleteToken(ctx, id) })
	return err
}

func (b budgetedAWX) ListTokens(ctx context.Context, opts awx.ListOptions) ([]awx.Token, error) {
	return budgeted(ctx, b.take, func() ([]awx.Token, error) { return b.api.ListTokens(ctx, opts) })
}

// budgeted runs call while holding room taken with take.
func budgeted[R any](ctx context.Context, take func(context.Context) (func(), error), call func() (R, error)) (R, error) {
	release, err := take(ctx)
	if err != nil {
		var zero R
		return zero, err
	}
	defer release()
	return call()
}
