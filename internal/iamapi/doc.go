// Package iamapi is IAM's wire API: the handlers of the IAM operations
// (Query protocol, XML results; shapes and member names follow botocore's
// iam service-2.json) and their entries in the operations table
// (Register). Each handler reads its parameters, authorizes through the
// request (rpc.Request.Authorize), calls package iam, and returns the
// result shape or an error; the server maps IAM's domain errors to the
// wire by Codes.
//
// Operations that several resource types share (Delete, Tag, Untag,
// List...Tags, the renames) have one handler each over an iamResource
// (entities.go); those on a user's, group's or role's policies take the
// entity kind (policies.go). Operations of one shape (get, list, act on,
// create) share a handler too, given their target: how the resource is
// read from the request and authorized (entities.go).
package iamapi
