// Diffusion XAI - train a small diffusion denoiser (UNet, DDPM objective) on a folder of images and save it as a
// model bundle that "Synthesize" can load (model=<bundle folder>).
// Headless: ImageJ-linux64 --headless -batch train_denoiser.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Train Denoiser" "images=... output=... size=64 iterations=3000 ..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Train Denoiser" --help
// Training is slow on a CPU: start with a few hundred iterations to check the set-up. Esc cancels (GUI).

// ---- inputs and outputs (change these) ----
base = getDirectory("temp") + "diffxai" + File.separator;
imagesDir = base + "phantoms";            // e.g. written by generate_phantoms.ijm; one sub-folder per class
bundleDir = base + "denoiser";            // the bundle folder; an earlier bundle there needs overwrite

setBatchMode(true);

// images         folder of training images          output         bundle folder to create
// size           images are brought to size x size  fit            pad, crop or stretch (other aspect ratios)
// iterations     optimizer steps                    batch          images per step
// learning_rate  Adam learning rate                 seed           same seed + data -> same training
// labels         flag: sub-folder names are classes (class-conditional model); leave out for none
// checkpoint_every  a checkpoint in <output>.checkpoint every N steps; resume=<that folder> continues a cancelled run
// More: prediction=v_prediction, schedule=squaredcos_cap_v2, min_snr_gamma=5, label_dropout=0.1 guidance_scale=1
run("Train Denoiser", "images=[" + imagesDir + "] output=[" + bundleDir + "] size=64 fit=pad iterations=300"
    + " batch=16 learning_rate=0.0005 seed=1 labels checkpoint_every=100");

print("Model bundle written to " + bundleDir);
setBatchMode(false);
