set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "rdf_liquid.png"
set xlabel "r (Å)"
set ylabel "g(r)"
set grid
set title "Si liquid, NVT 1800 K at the experimental density: g(r) of facet (Si-PBE)"
set arrow from 2.45,graph 0 to 2.45,graph 1 nohead dt 2 lc rgb "#000000"
set label "experiment: first peak" at 2.5,graph 0.95
plot "rdf_liquid_facet.dat" u 1:2 w l lw 2 lc rgb "#d62728" t "facet (Si-PBE)"
