package iamapi

import (
	"context"
	"encoding/base64"
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// xmlVirtualMFADevice is botocore's VirtualMFADevice shape. The two
// BootstrapDatum members are blobs, base64-encoded on the wire; they are
// sent only by CreateVirtualMFADevice.
type xmlVirtualMFADevice struct {
	SerialNumber     string                     `xml:"SerialNumber"`
	Base32StringSeed string                     `xml:"Base32StringSeed,omitempty"`
	QRCodePNG        string                     `xml:"QRCodePNG,omitempty"`
	User             *xmlUser                   `xml:"User,omitempty"`
	EnableDate       *awsapi.Time               `xml:"EnableDate,omitempty"`
	Tags             awsapi.Members[awsapi.Tag] `xml:"Tags,omitempty"`
}

type createVirtualMFADeviceResult struct {
	VirtualMFADevice xmlVirtualMFADevice `xml:"VirtualMFADevice"`
}

func handleCreateVirtualMFADevice(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		name, err := p.Required("VirtualMFADeviceName")
		if err != nil {
			return nil, err
		}
		path, tags := p.String("Path"), tagsParam(p)
		arnPath := path
		if arnPath == "" {
			arnPath = "/"
		}
		if err := r.Authorize(ctx, "iam:CreateVirtualMFADevice", svc.MFASerial(arnPath, name), tagConditionKeys(tags)); err != nil {
			return nil, err
		}
		d, err := svc.CreateVirtualMFADevice(ctx, name, path, tags)
		if err != nil {
			return nil, err
		}
		// The one response that carries an MFA seed.
		return &createVirtualMFADeviceResult{VirtualMFADevice: xmlVirtualMFADevice{
			SerialNumber:     d.SerialNumber,
			Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(d.Base32StringSeed)),
			QRCodePNG:        base64.StdEncoding.EncodeToString(d.QRCodePNG),
			Tags:             tagsXML(d.Tags),
		}}, nil
	}
}

func handleEnableMFADevice(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, "UserName", "SerialNumber", "AuthenticationCode1", "AuthenticationCode2")
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:EnableMFADevice", v[0], nil); err != nil {
			return nil, err
		}
		return nil, svc.EnableMFADevice(ctx, v[0], v[1], v[2], v[3])
	}
}

func handleDeactivateMFADevice(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		serial, err := r.Params.Required("SerialNumber")
		if err != nil {
			return nil, err
		}
		name := r.Params.String("UserName")
		if name == "" {
			// The device's own user; an unassigned device has none, and
			// the action is then authorized on the device.
			u, err := svc.MFADeviceUser(ctx, serial)
			switch {
			case err == nil:
				name = u.Name
			case errors.Is(err, iam.ErrNoSuchEntity):
				if err := r.Authorize(ctx, "iam:DeactivateMFADevice", serial, nil); err != nil {
					return nil, err
				}
				return nil, err
			default:
				return nil, err
			}
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:DeactivateMFADevice", name, nil); err != nil {
			return nil, err
		}
		return nil, svc.DeactivateMFADevice(ctx, name, serial)
	}
}

func handleDeleteVirtualMFADevice(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		serial, err := r.Params.Required("SerialNumber")
		if err != nil {
			return nil, err
		}
		if err := r.Authorize(ctx, "iam:DeleteVirtualMFADevice", serial, nil); err != nil {
			return nil, err
		}
		return nil, svc.DeleteVirtualMFADevice(ctx, serial)
	}
}

type xmlMFADevice struct {
	UserName     string      `xml:"UserName"`
	SerialNumber string      `xml:"SerialNumber"`
	EnableDate   awsapi.Time `xml:"EnableDate"`
}

type listMFADevicesResult struct {
	MFADevices awsapi.Members[xmlMFADevice] `xml:"MFADevices"`
	listResult
}

func handleListMFADevices(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:ListMFADevices", name, nil); err != nil {
			return nil, err
		}
		devices, err := svc.ListMFADevices(ctx, name)
		if err != nil {
			return nil, err
		}
		page, more, next, err := pageOf(r.Params, devices)
		if err != nil {
			return nil, err
		}
		out := &listMFADevicesResult{MFADevices: make(awsapi.Members[xmlMFADevice], len(page)), listResult: listResult{more, next}}
		for i, d := range page {
			out.MFADevices[i] = xmlMFADevice{UserName: d.UserName, SerialNumber: d.SerialNumber, EnableDate: awsapi.Time(d.EnableDate)}
		}
		return out, nil
	}
}

type listVirtualMFADevicesResult struct {
	VirtualMFADevices awsapi.Members[xmlVirtualMFADevice] `xml:"VirtualMFADevices"`
	listResult
}

func handleListVirtualMFADevices(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		status := r.Params.String("AssignmentStatus")
		if err := r.Authorize(ctx, "iam:ListVirtualMFADevices", listResource(svc, "mfa", "/"), nil); err != nil {
			return nil, err
		}
		devices, err := svc.ListVirtualMFADevices(ctx, status)
		if err != nil {
			return nil, err
		}
		page, more, next, err := pageOf(r.Params, devices)
		if err != nil {
			return nil, err
		}
		out := &listVirtualMFADevicesResult{VirtualMFADevices: make(awsapi.Members[xmlVirtualMFADevice], len(page)), listResult: listResult{more, next}}
		for i, d := range page {
			x := xmlVirtualMFADevice{SerialNumber: d.SerialNumber, Tags: tagsXML(d.Tags)}
			if d.User != nil {
				u := userXML(d.User, false)
				t := awsapi.Time(d.EnableDate)
				x.User, x.EnableDate = &u, &t
			}
			out.VirtualMFADevices[i] = x
		}
		return out, nil
	}
}
