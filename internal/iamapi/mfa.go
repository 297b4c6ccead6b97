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
	resource := func(in *namedInput) (string, []iam.Tag) { return svc.MFASerial(arnPath(in.path), in.name), in.tags }
	create := func(ctx context.Context, in namedInput) (*iam.VirtualMFADevice, error) {
		return svc.CreateVirtualMFADevice(ctx, in.name, in.path, in.tags)
	}
	return handleCreate("iam:CreateVirtualMFADevice", readNamed("VirtualMFADeviceName"), resource, create, func(_ *awsapi.Params, d *iam.VirtualMFADevice) *createVirtualMFADeviceResult {
		// The one response that carries an MFA seed.
		return &createVirtualMFADeviceResult{VirtualMFADevice: xmlVirtualMFADevice{
			SerialNumber:     d.SerialNumber,
			Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(d.Base32StringSeed)),
			QRCodePNG:        base64.StdEncoding.EncodeToString(d.QRCodePNG),
			Tags:             tagsXML(d.Tags),
		}}
	})
}

func handleEnableMFADevice(svc *iam.Service) rpc.Handler {
	auth := entityAuthorizer(svc, iam.KindUser)
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := authorizedArgs(ctx, r, auth, "iam:EnableMFADevice", nil, "UserName", "SerialNumber", "AuthenticationCode1", "AuthenticationCode2")
		if err != nil {
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
	return handleAct(paramTarget("SerialNumber", authorizeAsGiven), "iam:DeleteVirtualMFADevice", svc.DeleteVirtualMFADevice)
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
	return handleList(userTarget(svc), "iam:ListMFADevices", svc.ListMFADevices, func(page []iam.MFADevice, lr listResult) any {
		return &listMFADevicesResult{MFADevices: membersOf(page, mfaDeviceXML), listResult: lr}
	})
}

func mfaDeviceXML(d *iam.MFADevice) xmlMFADevice {
	return xmlMFADevice{UserName: d.UserName, SerialNumber: d.SerialNumber, EnableDate: awsapi.Time(d.EnableDate)}
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
		return listPage(r.Params, devices, func(page []iam.VirtualMFADevice, lr listResult) any {
			return &listVirtualMFADevicesResult{VirtualMFADevices: membersOf(page, virtualMFADeviceXML), listResult: lr}
		})
	}
}

// virtualMFADeviceXML is a device as ListVirtualMFADevices writes it:
// without its seed.
func virtualMFADeviceXML(d *iam.VirtualMFADevice) xmlVirtualMFADevice {
	x := xmlVirtualMFADevice{SerialNumber: d.SerialNumber, Tags: tagsXML(d.Tags)}
	if d.User != nil {
		u := userSummary(d.User)
		t := awsapi.Time(d.EnableDate)
		x.User, x.EnableDate = &u, &t
	}
	return x
}
