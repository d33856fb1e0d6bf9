// Diffusion XAI - export a model as a bioimage.io model package (folder + zip) that other bioimage.io tools open.
// The package is tested before it is written: the model must reproduce its own test tensors.
// Headless: ImageJ-linux64 --headless -batch export_bioimageio.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Export bioimage.io" "model=sample-ppnet license=MIT authors=[Jane Doe] output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Export bioimage.io" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "bioimageio";
File.makeDirectory(getDirectory("temp") + "diffxai");

setBatchMode(true);

// model       a bundled sample or a bundle folder (denoiser or classifier; TensorFlow, ONNX or TorchScript)
// license     SPDX identifier, needed when model.json has none; authors likewise
// test_image  for classifiers without a gallery: an image whose first plane becomes the test input
// no_zip      skip package.zip
run("Export bioimage.io", "model=sample-ppnet license=MIT authors=[Diffusion XAI users] seed=1 device=cpu"
    + " output=[" + outputDir + "] overwrite");

print("Exported " + Table.getString("model", 0, "Export bioimage.io") + " (" + Table.getString("kind", 0,
    "Export bioimage.io") + ") to " + Table.getString("package", 0, "Export bioimage.io"));
setBatchMode(false);
