package graph

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"cyclegan/internal/tfrt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	graphpb "github.com/galeone/tensorflow/tensorflow/go/core/framework/graph_go_proto"
	shapepb "github.com/galeone/tensorflow/tensorflow/go/core/framework/tensor_shape_go_proto"
	typespb "github.com/galeone/tensorflow/tensorflow/go/core/framework/types_go_proto"
	varpb "github.com/galeone/tensorflow/tensorflow/go/core/framework/variable_go_proto"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// ServeTag is the MetaGraph tag of the exported model.
const ServeTag = "serve"

// PredictMethod is the method name of the exported signatures.
const PredictMethod = "tensorflow/serving/predict"

// Signature is one named function of a SavedModel: its input and output
// tensors by key.
type Signature struct {
	Key     string
	Inputs  map[string]tf.Output
	Outputs map[string]tf.Output
}

// ExportSavedModel writes a SavedModel to dir: saved_model.pb with one
// MetaGraphDef (tag "serve", a V2 SaverDef, the "variables" collection of
// resource VariableDefs, the signatures, no device fields) and
// variables/variables.{index,data-00000-of-00001} holding values, keyed by
// variable name. b is the inference graph (it gains its save/restore ops
// here); vars are its variables. The export is assembled in a temporary
// folder and renamed into place, so a failed export never replaces a good
// one.
func ExportSavedModel(dir string, b *Builder, vars []*Variable, sigs []Signature, values map[string]*tf.Tensor) error {
	saver := NewSaver(b, "save", vars)
	if err := b.Err(); err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	mg, err := metaGraph(b, vars, saver, sigs)
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	pb, err := proto.Marshal(&corepb.SavedModel{SavedModelSchemaVersion: 1, MetaGraphs: []*corepb.MetaGraphDef{mg}})
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	// Soft placement: the graph may name a device (a GPU) this machine lacks.
	sess, err := b.NewSession(SessionConfig{})
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	defer sess.Close()
	err = writeDirAtomic(dir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, "saved_model.pb"), pb, 0o644); err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(tmp, "variables"), 0o755); err != nil {
			return err
		}
		return saver.SaveValues(sess, filepath.Join(tmp, "variables", "variables"), values)
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	return nil
}

func metaGraph(b *Builder, vars []*Variable, saver *Saver, sigs []Signature) (*corepb.MetaGraphDef, error) {
	var buf bytes.Buffer
	if _, err := b.g.WriteTo(&buf); err != nil {
		return nil, err
	}
	gd := &graphpb.GraphDef{}
	if err := proto.Unmarshal(buf.Bytes(), gd); err != nil {
		return nil, err
	}
	for _, n := range gd.Node {
		n.Device = ""
	}
	mg := &corepb.MetaGraphDef{
		MetaInfoDef: &corepb.MetaGraphDef_MetaInfoDef{
			Tags:              []string{ServeTag},
			TensorflowVersion: tfrt.Version(),
		},
		GraphDef: gd,
		SaverDef: &corepb.SaverDef{
			FilenameTensorName:        tensorName(saver.Filename),
			SaveTensorName:            tensorName(saver.SaveTensor),
			RestoreOpName:             saver.RestoreOp.Name(),
			MaxToKeep:                 5,
			KeepCheckpointEveryNHours: 10000,
			Version:                   corepb.SaverDef_V2,
		},
		CollectionDef: map[string]*corepb.CollectionDef{},
		SignatureDef:  map[string]*corepb.SignatureDef{},
	}
	var all, trainable [][]byte
	for _, v := range vars {
		vd, err := proto.Marshal(&varpb.VariableDef{
			VariableName:     tensorName(v.Handle),
			InitialValueName: tensorName(v.Initial),
			InitializerName:  v.Init.Name(),
			SnapshotName:     tensorName(v.Read),
			IsResource:       true,
			Trainable:        v.Trainable,
		})
		if err != nil {
			return nil, err
		}
		all = append(all, vd)
		if v.Trainable {
			trainable = append(trainable, vd)
		}
	}
	mg.CollectionDef["variables"] = bytesCollection(all)
	if len(trainable) > 0 {
		mg.CollectionDef["trainable_variables"] = bytesCollection(trainable)
	}
	for _, s := range sigs {
		sd := &corepb.SignatureDef{MethodName: PredictMethod,
			Inputs: map[string]*corepb.TensorInfo{}, Outputs: map[string]*corepb.TensorInfo{}}
		for k, t := range s.Inputs {
			sd.Inputs[k] = tensorInfo(t)
		}
		for k, t := range s.Outputs {
			sd.Outputs[k] = tensorInfo(t)
		}
		mg.SignatureDef[s.Key] = sd
	}
	return mg, nil
}

func bytesCollection(vals [][]byte) *corepb.CollectionDef {
	return &corepb.CollectionDef{Kind: &corepb.CollectionDef_BytesList_{
		BytesList: &corepb.CollectionDef_BytesList{Value: vals}}}
}

func tensorName(o tf.Output) string { return fmt.Sprintf("%s:%d", o.Op.Name(), o.Index) }

func tensorInfo(o tf.Output) *corepb.TensorInfo {
	sh := &shapepb.TensorShapeProto{}
	if s := o.Shape(); s.NumDimensions() < 0 {
		sh.UnknownRank = true
	} else {
		for i := 0; i < s.NumDimensions(); i++ {
			sh.Dim = append(sh.Dim, &shapepb.TensorShapeProto_Dim{Size: s.Size(i)})
		}
	}
	return &corepb.TensorInfo{
		Encoding:    &corepb.TensorInfo_Name{Name: tensorName(o)},
		Dtype:       typespb.DataType(o.DataType()),
		TensorShape: sh,
	}
}
