import Foundation

/// Keys of TRL's configs, its script arguments and transformers' `TrainingArguments` that Charter reads but does
/// not act on, so that one recipe runs in both (`charter export trl` passes them on to TRL unchanged).
///
/// Two kinds: keys about hardware, precision, loggers and hubs, which change nothing a CPU run computes, are
/// accepted whatever their value, with one line saying so; keys that would change the result are accepted only at
/// the value that means what Charter does (`optim: adamw_torch`, `label_smoothing_factor: 0`), and refused otherwise.
extension TrainingRecipe {
    /// How Charter treats a TRL key it has no setting for.
    public enum ForeignKey: Sendable {
        /// Accepted with any value; the note says why it changes nothing here.
        case ignored(String)
        /// Accepted when the value is one of `values` (compared as YAML text); otherwise an error saying why.
        case only([String], String)
    }

    /// Every TRL / transformers key Charter accepts without a setting of its own.
    public static let foreignKeys: [String: ForeignKey] = {
        var keys: [String: ForeignKey] = [:]
        let precision = "Charter trains in fp32 on the CPU; kept for charter export trl"
        for key in ["fp16", "tf32", "bf16_full_eval", "fp16_full_eval", "dtype", "torch_dtype"] { keys[key] = .ignored(precision) }
        // The trainer commands and pipeline stages read bf16 themselves (they add it to their keys and set
        // MatmulPrecision); any other reader notes that it trains in fp32.
        keys["bf16"] = .ignored("this run trains in fp32 (the trainer commands and pipeline stages act on bf16: true); kept for charter export trl")
        keys["use_cpu"] = .ignored("Charter always runs on the CPU")
        // (gradient_checkpointing itself is a training argument: Charter recomputes each decoder block.)
        for key in ["gradient_checkpointing_kwargs", "activation_checkpointing", "activation_checkpointing_kwargs",
                    "activation_offloading", "torch_empty_cache_steps", "use_cache"] {
            keys[key] = .ignored("a memory setting of PyTorch's; it does not change the result")
        }
        for key in ["torch_compile", "torch_compile_backend", "torch_compile_mode", "use_liger_kernel", "liger_kernel_config", "attn_implementation"] {
            keys[key] = .ignored("a PyTorch kernel choice; Charter uses its own kernels")
        }
        for key in ["ddp_find_unused_parameters", "ddp_bucket_cap_mb", "ddp_broadcast_buffers", "ddp_static_graph", "ddp_backend", "ddp_timeout",
                    "fsdp", "fsdp_config", "deepspeed", "accelerator_config", "parallelism_config", "local_rank", "average_tokens_across_devices",
                    "log_on_each_node", "log_level_replica", "save_on_each_node", "dataloader_num_workers", "dataloader_pin_memory",
                    "dataloader_persistent_workers", "dataloader_prefetch_factor", "dataloader_multiprocessing_context", "dataloader_in_order",
                    "dataset_num_proc", "eval_use_gather_object", "eval_do_concat_batches", "eval_accumulation_steps"] {
            keys[key] = .ignored("a multi-process or multi-device setting; Charter runs one process")
        }
        for key in ["push_to_hub", "hub_token", "hub_private_repo", "hub_model_id", "hub_strategy", "hub_always_push", "hub_revision",
                    "run_name", "project", "trackio_space_id", "trackio_bucket_id", "trackio_static_space_id"] {
            keys[key] = .ignored("for the Hugging Face Hub or an online tracker; Charter writes only to output_dir")
        }
        for key in ["log_level", "disable_tqdm", "logging_nan_inf_filter", "skip_memory_metrics", "debug", "include_num_input_tokens_seen",
                    "do_train", "do_eval", "do_predict", "remove_unused_columns", "label_names", "model_revision", "trust_remote_code",
                    "model_init_kwargs", "ignore_bias_buffers", "enable_jit_checkpoint", "restore_callback_states_from_checkpoint",
                    "ignore_data_skip", "full_determinism", "save_only_model", "prediction_loss_only", "include_for_metrics",
                    "batch_eval_metrics", "length_column_name", "optim_args", "optim_target_modules", "lr_scheduler_kwargs"] {
            keys[key] = .ignored("changes nothing Charter computes (it is always deterministic and reads local folders)")
        }
        keys["optim"] = .only(["adamw_torch", "adamw_torch_fused", "adamw_hf"], "Charter's optimizer is AdamW as torch.optim.AdamW computes it")
        keys["logging_strategy"] = .only(["steps"], "Charter logs every logging_steps")
        keys["label_smoothing_factor"] = .only(["0", "0.0"], "label smoothing is not implemented")
        keys["neftune_noise_alpha"] = .only(["null"], "NEFTune noise is not implemented")
        keys["load_best_model_at_end"] = .only(["false"], "Charter keeps the final model; checkpoints stay in output_dir")
        keys["metric_for_best_model"] = .only(["null"], "best-model tracking is not implemented")
        keys["greater_is_better"] = .only(["null"], "best-model tracking is not implemented")
        keys["auto_find_batch_size"] = .only(["false"], "the batch size is what the recipe says")
        keys["eval_on_start"] = .only(["false"], "evaluation at step 0 is not implemented")
        keys["eval_delay"] = .only(["0", "0.0", "null"], "eval_delay is not implemented")
        keys["data_seed"] = .only(["null"], "Charter orders the data with seed")
        keys["dataloader_drop_last"] = .only(["false"], "Charter visits every example")
        keys["resume_from_checkpoint"] = .only(["null"], "resume with --resume (the newest checkpoint in output_dir)")
        keys["dataset_streaming"] = .only(["false"], "Charter reads local files whole")
        keys["dataset_config"] = .only(["null"], "dataset configurations belong to Hub datasets; give a local file or folder")
        keys["streaming"] = .only(["false"], "Charter reads local files whole")
        keys["test_split_size"] = .only(["null"], "a random train/test split is not implemented; give the test split's files (eval_dataset_name, or a folder's test split)")
        keys["shuffle_dataset"] = .only(["false"], "Charter orders the data with train_sampling_strategy")
        for key in ["use_dora", "use_rslora", "load_in_8bit", "load_in_4bit", "use_bnb_nested_quant"] {
            keys[key] = .only(["false"], "not implemented: Charter's LoRA is plain LoRA on fp32 weights")
        }
        for key in ["lora_target_parameters", "lora_modules_to_save"] { keys[key] = .only(["null"], "not implemented in Charter's LoRA") }
        // SFT, DPO, reward and KTO keys Charter has no setting for.
        keys["chat_template_path"] = .only(["null"], "give a .jinja or .j2 file (read as chat_template_name), a built-in chat_template_name, or put the template in the model folder")
        keys["dataset_kwargs"] = .only(["null"], "dataset options belong to datasets' loaders; Charter reads TRL's fields")
        keys["dataset_text_field"] = .only(["text"], "Charter reads the text field of language-modelling data")
        keys["eos_token"] = .only(["null"], "Charter uses the tokenizer's own end-of-sequence token")
        keys["pad_token"] = .only(["null"], "Charter uses the tokenizer's own padding token")
        keys["pad_to_multiple_of"] = .only(["null"], "Charter pads to the longest sequence of the batch")
        // (SFT reads padding_free and packing_strategy as settings of its own; these entries are for the other trainers.)
        keys["padding_free"] = .only(["false"], "padding-free batches are implemented for SFT only; DPO, ORPO and KTO pad their batches")
        keys["eval_packing"] = .only(["null"], "evaluation data is packed as training data is")
        keys["truncation_mode"] = .only(["keep_start"], "Charter's SFT keeps the start of a long sequence")
        keys["loss_type"] = .only(["nll"], "Charter's SFT loss is the negative log-likelihood")
        keys["router_aux_loss_coef"] = .ignored("for mixture-of-experts models, which Charter does not load")
        keys["f_divergence_type"] = .only(["reverse_kl"], "Charter's DPO losses use the reverse KL (standard DPO)")
        keys["ld_alpha"] = .only(["null"], "length-desensitised DPO is not implemented")
        keys["use_weighting"] = .only(["false"], "WPO weighting is not implemented")
        keys["sync_ref_model"] = .only(["false"], "Charter's reference model stays fixed (TR-DPO is not implemented)")
        for key in ["ref_model_mixup_alpha", "ref_model_sync_steps", "f_alpha_divergence_coef", "discopop_tau"] {
            keys[key] = .ignored("read only by options Charter does not have (sync_ref_model, alpha divergence, DiscoPOP)")
        }
        keys["lora_task_type"] = .only(["CAUSAL_LM", "SEQ_CLS"], "PEFT's task type follows the trainer")
        keys["bnb_4bit_quant_type"] = .only(["nf4"], "quantized training is not implemented")
        keys["bnb_4bit_quant_storage"] = .only(["null"], "quantized training is not implemented")
        // Generation keys of TRL's online trainers (GRPO, RLOO, online DPO).
        keys["use_vllm"] = .only(["false"], "Charter samples with its own generator; vLLM is not used")
        for key in ["vllm_mode", "vllm_model_impl", "vllm_gpu_memory_utilization", "vllm_tensor_parallel_size", "vllm_enable_sleep_mode",
                    "vllm_server_base_url", "vllm_server_host", "vllm_server_port", "vllm_server_timeout", "vllm_group_port",
                    "vllm_structured_outputs_regex"] {
            keys[key] = .ignored("read only with use_vllm, which Charter does not use")
        }
        keys["ds3_gather_for_generation"] = .ignored("a DeepSpeed ZeRO-3 setting; Charter runs one process")
        keys["cache_implementation"] = .ignored("a choice of transformers' KV cache; Charter's generator keeps its own cache")
        keys["generation_kwargs"] = .only(["null"], "give the sampling settings by their own keys (temperature, top_p, top_k, min_p)")
        keys["repetition_penalty"] = .only(["1", "1.0"], "a repetition penalty is not implemented in Charter's sampler")
        return keys
    }()

    /// The YAML text a value is compared as (`false`, `0.0`, `null`, `adamw_torch`).
    static func yamlText(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Double: return number == number.rounded() && abs(number) < 1e15 ? "\(Int(number))" : "\(number)"
        default: return "\(value)"
        }
    }
}
